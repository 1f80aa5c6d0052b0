using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.FileProviders;

namespace Firestarter.Status;

/// <summary>
/// The live status page's files (HTML, CSS, JavaScript under <c>Status/Page/</c>), shipped inside the library as
/// embedded resources and served by ASP.NET Core's static file middleware (content types, ETag, 304), so the page
/// needs no CDN, no build step and no file system.
/// </summary>
internal sealed class StatusPage
{
    /// <summary>The resources' logical names' prefix (set in the project file).</summary>
    internal const string ResourceNamespace = "Firestarter.Status.Page";

    public StatusPage()
    {
        Files = new EmbeddedFileProvider(typeof(StatusPage).Assembly, ResourceNamespace);
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".html"] = "text/html; charset=utf-8";
        types.Mappings[".css"] = "text/css; charset=utf-8";
        types.Mappings[".js"] = "text/javascript; charset=utf-8";
        Options = new StaticFileOptions
        {
            FileProvider = Files,
            ContentTypeProvider = types,
            OnPrepareResponse = static file =>
            {
                var headers = file.Context.Response.Headers;
                // Revalidate every time: the files change only with the library, and a 304 costs one round trip.
                headers.CacheControl = "no-cache";
                headers.XContentTypeOptions = "nosniff";
                headers.ContentSecurityPolicy = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
            },
        };
    }

    /// <summary>The page's files.</summary>
    public IFileProvider Files { get; }

    /// <summary>How they are served.</summary>
    public StaticFileOptions Options { get; }

    /// <summary>
    /// A request delegate that serves the file <paramref name="name"/>, whatever the request's path: it runs the
    /// static file middleware in a pipeline of its own (<paramref name="pipeline"/>, from the endpoint builder).
    /// </summary>
    public RequestDelegate Serve(IApplicationBuilder pipeline, string name)
    {
        var path = new PathString("/" + name);
        pipeline.Use((context, next) =>
        {
            context.Request.Path = path;
            // The static file middleware stands aside for a request that already has an endpoint to run.
            context.SetEndpoint(null);
            return next(context);
        });
        pipeline.UseStaticFiles(Options);
        return pipeline.Build();
    }
}
