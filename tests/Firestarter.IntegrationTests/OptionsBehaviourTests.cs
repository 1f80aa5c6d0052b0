using System.Net;
using System.Text.Json;
using Firestarter.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>Options change what the broker does, end to end.</summary>
public sealed class OptionsBehaviourTests
{
    private static HttpClient ClientFor(BrokerFactory broker) =>
        new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue }) { BaseAddress = broker.Start() };

    [Fact]
    public async Task A_poll_held_past_the_server_side_limit_ends_with_204_and_leaves_the_pool()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = new BrokerFactory(
            new Dictionary<string, string?> { ["Firestarter:MaxPollDuration"] = "00:00:45" },
            services => services.AddSingleton<TimeProvider>(time));
        using var client = ClientFor(broker);
        var poll = client.SendAsync(Poll(Key.Default));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        time.Advance(TimeSpan.FromSeconds(44));
        Assert.False(poll.IsCompleted);
        Assert.Equal(1, broker.Pool.ParkedCount);

        time.Advance(TimeSpan.FromSeconds(2));
        using var response = await poll;
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(0, broker.Pool.ParkedCount);
        Assert.False(await DispatchAsync(client, Key.Default, "run_after_expiry"));
    }

    [Fact]
    public async Task The_default_server_side_limit_is_twice_the_connection_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var broker = new BrokerFactory(
            new Dictionary<string, string?> { ["Firestarter:ConnectionTimeout"] = "00:00:10" },
            services => services.AddSingleton<TimeProvider>(time));
        using var client = ClientFor(broker);
        var poll = client.SendAsync(Poll(Key.Default));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        time.Advance(TimeSpan.FromSeconds(19));
        Assert.False(poll.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        using var response = await poll;
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task Oldest_first_selection_hands_the_run_to_the_longest_waiting_controller()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["Firestarter:Selection"] = "OldestFirst" });
        using var client = ClientFor(broker);
        var older = client.SendAsync(Poll(Key.Default, "older"));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the older poll is parked");
        var newer = client.SendAsync(Poll(Key.Default, "newer"));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 2, "both polls are parked");

        Assert.True(await DispatchAsync(client, Key.Default, "run_oldest"));
        using var response = await older;
        Assert.Equal("run_oldest", RunIdOf(await response.Content.ReadAsStringAsync()));
        Assert.False(newer.IsCompleted);
    }

    [Fact]
    public async Task With_warm_starts_off_connect_answers_zeros_polls_are_refused_and_dispatches_cold_start()
    {
        await using var broker = new BrokerFactory(new Dictionary<string, string?> { ["Firestarter:Enabled"] = "false" });
        using var client = ClientFor(broker);

        using var connect = await client.GetAsync("/connect");
        using var json = JsonDocument.Parse(await connect.Content.ReadAsStringAsync());
        Assert.Equal(0, json.RootElement.GetProperty("connectionTimeoutMs").GetInt64());
        Assert.Equal(0, json.RootElement.GetProperty("keepaliveMs").GetInt64());

        using var poll = await client.SendAsync(Poll(Key.Default));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, poll.StatusCode);
        Assert.Equal("application/problem+json", poll.Content.Headers.ContentType?.MediaType);

        Assert.False(await DispatchAsync(client, Key.Default, "run_disabled"));
    }
}
