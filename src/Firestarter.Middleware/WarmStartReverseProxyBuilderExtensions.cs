using Firestarter;
using Firestarter.Routing;
using Microsoft.Extensions.DependencyInjection;

// In the builder namespace, beside YARP's UseLoadBalancing and friends.
namespace Microsoft.AspNetCore.Builder;

/// <summary>Adds the warm-start broker to YARP's proxy pipeline.</summary>
public static class WarmStartReverseProxyBuilderExtensions
{
    /// <summary>
    /// Answers the warm-start routes (those whose metadata has <c>"Firestarter": "Connect" | "Poll" | "Dispatch"</c>)
    /// in the proxy pipeline and passes every other request on to be forwarded. Put it first:
    /// <c>app.MapReverseProxy(proxy =&gt; { proxy.UseWarmStart(); proxy.UseLoadBalancing(); … })</c>.
    /// Requires <c>services.AddFirestarter(…)</c>.
    /// </summary>
    public static IReverseProxyApplicationBuilder UseWarmStart(this IReverseProxyApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.ApplicationServices.GetService<FirestarterMarker>() is null)
        {
            throw new InvalidOperationException(
                "UseWarmStart() needs the broker's services: call services.AddFirestarter(configuration) when configuring services.");
        }

        builder.UseMiddleware<WarmStartMiddleware>();
        return builder;
    }
}
