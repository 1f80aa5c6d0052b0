using System.Text;
using Firestarter.Polling;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.Tests.Polling;

public class ConnectHandlerTests
{
    [Fact]
    public async Task Answers_the_encoded_timings_as_json_with_a_length()
    {
        var options = new FirestarterOptions { ConnectionTimeout = TimeSpan.FromSeconds(20), Keepalive = TimeSpan.FromMinutes(3) };
        var handler = new ConnectHandler(Microsoft.Extensions.Options.Options.Create(options));
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));

        await handler.HandleAsync(context);

        const string Expected = """{"connectionTimeoutMs":20000,"keepaliveMs":180000}""";
        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal(Expected.Length, context.Response.ContentLength);
        Assert.Equal(Expected, Encoding.UTF8.GetString(body.ToArray()));
    }

    [Fact]
    public async Task The_answer_is_fixed_when_the_handler_is_created()
    {
        var options = new FirestarterOptions();
        var handler = new ConnectHandler(Microsoft.Extensions.Options.Options.Create(options));
        options.ConnectionTimeout = TimeSpan.FromSeconds(1);
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));

        await handler.HandleAsync(context);

        Assert.Equal("""{"connectionTimeoutMs":30000,"keepaliveMs":300000}""", Encoding.UTF8.GetString(body.ToArray()));
    }
}
