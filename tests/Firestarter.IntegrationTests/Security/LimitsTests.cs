using System.Net;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Security;

/// <summary>Limits answer clearly (503 + Retry-After, 429, 431, 413) and leave everyone else undisturbed.</summary>
public sealed class LimitsTests
{
    private static HttpClient ClientFor(BrokerFactory broker) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = broker.Start() };

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(code, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Beyond_MaxParked_a_poll_gets_503_with_Retry_After_and_the_parked_ones_still_get_runs()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["Firestarter:Limits:MaxParked"] = "3",
            ["Firestarter:Limits:RetryAfter"] = "00:00:07",
        });
        using var client = ClientFor(broker);
        var keys = Enumerable.Range(0, 3).Select(i => Key.Default with { Deployment = $"deployment_{i}" }).ToArray();
        var polls = keys.Select(key => client.SendAsync(Poll(key))).ToArray();
        await EventuallyAsync(() => broker.Pool.ParkedCount == 3, "three polls are parked");

        using var refused = await client.SendAsync(Poll(Key.Default with { Deployment = "deployment_3" }));
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "too-many-controllers");
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);

        // A slot is given back when a poll ends: after one run, one more controller may park.
        Assert.True(await DispatchAsync(client, keys[0], "run_0"));
        (await polls[0]).Dispose();
        var limits = (Limits.ParkingLimits)broker.Services.GetService(typeof(Limits.ParkingLimits))!;
        await EventuallyAsync(() => limits.Taken == 2, "the delivered poll's slot is given back");
        var again = client.SendAsync(Poll(Key.Default with { Deployment = "deployment_3" }));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 3, "the freed slot is taken");
        Assert.True(await DispatchAsync(client, Key.Default with { Deployment = "deployment_3" }, "run_3"));
        Assert.True(await DispatchAsync(client, keys[1], "run_1"));
        Assert.True(await DispatchAsync(client, keys[2], "run_2"));
        await Task.WhenAll(polls.Skip(1).Append(again));
    }

    [Fact]
    public async Task Beyond_MaxParkedPerKey_a_poll_gets_503_while_other_keys_still_park()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["Firestarter:Limits:MaxParkedPerKey"] = "2" });
        using var client = ClientFor(broker);
        var full = Key.Default with { Deployment = "deployment_full" };
        var polls = new[] { client.SendAsync(Poll(full, "c1")), client.SendAsync(Poll(full, "c2")) };
        await EventuallyAsync(() => broker.Pool.ParkedCount == 2, "two polls are parked");

        using var refused = await client.SendAsync(Poll(full, "c3"));
        await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable, "too-many-controllers");
        Assert.NotNull(refused.Headers.RetryAfter);

        var other = Key.Default with { Deployment = "deployment_other" };
        var otherPoll = client.SendAsync(Poll(other));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 3, "another key still parks");
        Assert.True(await DispatchAsync(client, other, "run_other"));
        Assert.True(await DispatchAsync(client, full, "run_full_1"));
        Assert.True(await DispatchAsync(client, full, "run_full_2"));
        await Task.WhenAll(polls.Append(otherPoll));
        // Every slot is given back once the handlers finish (just after the responses are sent).
        var limits = (Limits.ParkingLimits)broker.Services.GetService(typeof(Limits.ParkingLimits))!;
        await EventuallyAsync(() => limits.Taken == 0, "every slot is given back");
    }

    [Fact]
    public async Task Headers_over_Kestrels_configured_limit_get_431_and_a_parked_controller_is_undisturbed()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["Kestrel:Limits:MaxRequestHeadersTotalSize"] = "4096" });
        using var client = ClientFor(broker);
        var poll = client.SendAsync(Poll(Key.Default));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        using var big = Poll(Key.Default, "big");
        big.Headers.TryAddWithoutValidation("x-padding", new string('p', 5000));
        using var refused = await client.SendAsync(big);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, refused.StatusCode);

        Assert.True(await DispatchAsync(client, Key.Default, "run_after_431"));
        using var response = await poll;
        Assert.Equal("run_after_431", RunIdOf(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Over_the_per_client_rate_connect_and_dispatch_get_429_with_Retry_After()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?>
        {
            ["Firestarter:RateLimits:Connect:PermitsPerSecond"] = "2",
            ["Firestarter:RateLimits:Dispatch:PermitsPerSecond"] = "2",
        });
        using var client = ClientFor(broker);

        // A token bucket of two per second: a burst of ten finds at most two (and whatever refills meanwhile) admitted.
        var connects = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => client.GetAsync(new Uri("/connect", UriKind.Relative))));
        var dispatches = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => client.SendAsync(Dispatch(DispatchBody(Message(Key.Default, $"run_{i}"))))));

        foreach (var answers in new[] { connects, dispatches })
        {
            Assert.Contains(answers, r => r.StatusCode == HttpStatusCode.OK);
            var limited = answers.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
            Assert.NotEmpty(limited);
            Assert.All(answers, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests));
            await AssertProblemAsync(limited[0], HttpStatusCode.TooManyRequests, "rate-limited");
            Assert.NotNull(limited[0].Headers.RetryAfter);
        }

        // Polls are not rate limited.
        var poll = client.SendAsync(Poll(Key.Default));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");
        Assert.False(poll.IsCompleted);
    }
}
