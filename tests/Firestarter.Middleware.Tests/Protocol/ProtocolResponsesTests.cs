using System.Text;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.Tests.Protocol;

public class ProtocolResponsesTests
{
    [Fact]
    public void The_fixed_answers_are_the_protocols_json()
    {
        Assert.Equal("""{"didWarmStart":true}""", Encoding.UTF8.GetString(ProtocolResponses.WarmStarted.Span));
        Assert.Equal("""{"didWarmStart":false}""", Encoding.UTF8.GetString(ProtocolResponses.NotWarmStarted.Span));
    }

    [Fact]
    public async Task WriteJsonAsync_writes_a_complete_200_json_answer_with_its_length()
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        context.Response.StatusCode = 500;

        await ProtocolResponses.WriteJsonAsync(context.Response, ProtocolResponses.NotWarmStarted);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.Equal("application/json", context.Response.ContentType);
        Assert.Equal(ProtocolResponses.NotWarmStarted.Length, context.Response.ContentLength);
        Assert.Equal(ProtocolResponses.NotWarmStarted.ToArray(), body.ToArray());
    }
}
