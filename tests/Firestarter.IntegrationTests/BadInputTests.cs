using System.Net;
using System.Text;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>Bad polls and dispatches get a 4xx problem that names what is wrong, and disturb nobody.</summary>
public sealed class BadInputTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string mentions)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal((int)status, json.GetProperty("status").GetInt32());
        Assert.Contains(mentions, json.GetProperty("detail").GetString(), StringComparison.Ordinal);
        return json;
    }

    public static TheoryData<string, string?, string> BadHeaders => new()
    {
        { "x-trigger-deployment-id", null, "x-trigger-deployment-id" },
        { "x-trigger-deployment-version", "", "x-trigger-deployment-version" },
        { "x-trigger-machine-cpu", "fast", "x-trigger-machine-cpu" },
        { "x-trigger-machine-cpu", "-1", "x-trigger-machine-cpu" },
        { "x-trigger-machine-memory", "NaN", "x-trigger-machine-memory" },
        { "x-trigger-machine-memory", "Infinity", "x-trigger-machine-memory" },
        { "x-trigger-deployment-id", "aaa.bbb.ccc", "deployment token" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public async Task A_poll_with_a_bad_match_header_is_refused_with_a_problem(string header, string? value, string mentions)
    {
        using var client = fixture.CreateClient();
        using var request = Poll(Key.Default);
        request.Headers.Remove(header);
        if (value is not null)
        {
            request.Headers.TryAddWithoutValidation(header, value);
        }

        using var response = await client.SendAsync(request);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "not json", "not valid JSON" },
        { "", "empty" },
        { "[1,2]", "JSON object" },
        { """{"something":1}""", "no 'dequeuedMessage'" },
        { """{"dequeuedMessage":"x"}""", "'dequeuedMessage' must be a JSON object" },
        { """{"dequeuedMessage":{"backgroundWorker":{"version":"1"},"run":{"machine":{"cpu":1,"memory":1}}}}""", "dequeuedMessage.deployment.friendlyId" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":"d"},"run":{"machine":{"cpu":1,"memory":1}}}}""", "dequeuedMessage.backgroundWorker.version" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"1"},"run":{"machine":{"memory":1}}}}""", "dequeuedMessage.run.machine.cpu" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"1"},"run":{"machine":{"cpu":1}}}}""", "dequeuedMessage.run.machine.memory" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"1"},"run":{"machine":{"cpu":"1","memory":1}}}}""", "must be a JSON number" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":7},"backgroundWorker":{"version":"1"},"run":{"machine":{"cpu":1,"memory":1}}}}""", "must be a JSON string" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"1"},"run":{"machine":{"cpu":-1,"memory":1}}}}""", "non-negative" },
        { """{"dequeuedMessage":{"deployment":{"friendlyId":"d"},"backgroundWorker":{"version":"1"},"run":{"machine":{"cpu":1,"memory":1}}}""", "not valid JSON" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_dispatch_body_is_refused_with_a_problem(string body, string mentions)
    {
        using var client = fixture.CreateClient();
        using var response = await client.SendAsync(Dispatch(body));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    [Fact]
    public async Task A_dispatch_body_over_the_limit_is_refused_with_413()
    {
        using var client = fixture.CreateClient();
        var padding = new string('x', 1024 * 1024);
        using var response = await client.SendAsync(Dispatch(DispatchBody(Message(Key.Default, "run_big").Replace("\"version\":\"1\"", $"\"version\":\"1\",\"pad\":\"{padding}\"", StringComparison.Ordinal))));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "1048576");
    }

    [Fact]
    public async Task A_chunked_dispatch_body_over_the_limit_is_refused_with_413()
    {
        using var client = fixture.CreateClient();
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(new string(' ', 2 * 1024 * 1024) + "{}")));
        content.Headers.ContentLength = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/warm-start") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task Bad_requests_do_not_disturb_a_parked_controller()
    {
        using var client = fixture.CreateClient();
        var key = new Key($"deployment_{Guid.NewGuid():N}", "1", "1", "1");
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the poll is parked");

        foreach (var (body, _) in BadBodies.Select(row => ((string)row[0], (string)row[1])))
        {
            using var bad = await client.SendAsync(Dispatch(body.Replace("\"d\"", $"\"{key.Deployment}\"", StringComparison.Ordinal)));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        Assert.False(poll.IsCompleted);
        Assert.True(await DispatchAsync(client, key, "run_after_bad_input"));
        using var response = await poll;
        Assert.Equal("run_after_bad_input", RunIdOf(await response.Content.ReadAsStringAsync()));
    }
}
