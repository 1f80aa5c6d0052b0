using System.Text.Json;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.Tests.Protocol;

public class ProblemTests
{
    private static (DefaultHttpContext Context, MemoryStream Body) NewContext()
    {
        var context = new DefaultHttpContext();
        var body = new MemoryStream();
        context.Features.Set<IHttpResponseBodyFeature>(new StreamResponseBodyFeature(body));
        return (context, body);
    }

    [Fact]
    public async Task WriteAsync_writes_an_rfc9457_problem_with_all_five_members()
    {
        var (context, body) = NewContext();
        var problem = new Problem(418, "teapot", "A short title.", "What exactly went wrong.");

        await problem.WriteAsync(context.Response);

        Assert.Equal(418, context.Response.StatusCode);
        Assert.Equal("application/problem+json", context.Response.ContentType);
        Assert.Equal(body.Length, context.Response.ContentLength);
        using var json = JsonDocument.Parse(body.ToArray());
        var members = json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone());
        Assert.Equal(["type", "title", "status", "detail", "code"], members.Keys);
        Assert.Equal("about:blank", members["type"].GetString());
        Assert.Equal("A short title.", members["title"].GetString());
        Assert.Equal(418, members["status"].GetInt32());
        Assert.Equal("What exactly went wrong.", members["detail"].GetString());
        Assert.Equal("teapot", members["code"].GetString());
    }

    [Fact]
    public async Task WriteAsync_keeps_quotes_apostrophes_and_unicode_readable_and_round_trips_them()
    {
        var (context, body) = NewContext();
        const string Detail = "Header 'x-trigger-machine-cpu' was \"1 cpu\" – é…";

        await Problem.BadHeader(Detail).WriteAsync(context.Response);

        var text = System.Text.Encoding.UTF8.GetString(body.ToArray());
        Assert.Contains("'x-trigger-machine-cpu'", text, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(body.ToArray());
        Assert.Equal(Detail, json.RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public void BadHeader_is_a_400_bad_header()
    {
        var problem = Problem.BadHeader("detail");

        Assert.Equal(400, problem.Status);
        Assert.Equal("bad-header", problem.Code);
        Assert.Equal("detail", problem.Detail);
        Assert.False(string.IsNullOrWhiteSpace(problem.Title));
    }

    [Fact]
    public void BadBody_is_a_400_bad_body()
    {
        var problem = Problem.BadBody("detail");

        Assert.Equal(400, problem.Status);
        Assert.Equal("bad-body", problem.Code);
        Assert.Equal("detail", problem.Detail);
    }

    [Fact]
    public void BodyTooLarge_is_a_413_naming_the_limit_and_its_setting()
    {
        var problem = Problem.BodyTooLarge(4096);

        Assert.Equal(413, problem.Status);
        Assert.Equal("body-too-large", problem.Code);
        Assert.Contains("4096", problem.Detail, StringComparison.Ordinal);
        Assert.Contains("Firestarter:MaxDispatchBodySize", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Disabled_is_a_503_naming_the_setting()
    {
        var problem = Problem.Disabled();

        Assert.Equal(503, problem.Status);
        Assert.Equal("warm-starts-disabled", problem.Code);
        Assert.Contains("Firestarter:Enabled", problem.Detail, StringComparison.Ordinal);
    }
}
