using System.Net;
using System.Text;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests;

/// <summary>The warm-start handshake over real Kestrel: a parked poll receives a matching dispatch.</summary>
public sealed class PollAndDispatchTests(BrokerFixture fixture) : IClassFixture<BrokerFixture>
{
    private static Key NewKey(string cpu = "0.5", string memory = "1") => new($"deployment_{Guid.NewGuid():N}", "20261126.1", cpu, memory);

    [Fact]
    public async Task Parked_poll_receives_the_dispatched_message_byte_for_byte()
    {
        using var client = fixture.CreateClient();
        var key = NewKey();
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => fixture.Broker.Pool.ParkedCount >= 1 && !poll.IsCompleted, "the poll is parked");

        // Odd spacing and member order inside dequeuedMessage must reach the controller untouched.
        var message = """{ "run" : {"friendlyId":"run_exact","machine":{"memory":1.0,"cpu":5e-1}} ,"deployment":{"friendlyId":"DEP"},"backgroundWorker":{"version":"20261126.1"},"extra":[1,{"x":"é\"\\"}]}""".Replace("DEP", key.Deployment, StringComparison.Ordinal);
        using var dispatch = await client.SendAsync(Dispatch("{\"other\":true,\"dequeuedMessage\":" + message + "}"));
        Assert.True(await ReadDidWarmStartAsync(dispatch));

        using var response = await poll;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(Encoding.UTF8.GetBytes(message), await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Dispatch_without_a_waiting_controller_is_not_warm_started()
    {
        using var client = fixture.CreateClient();
        Assert.False(await DispatchAsync(client, NewKey(), "run_nobody"));
    }

    public static TheoryData<string> Fields => ["deployment", "version", "cpu", "memory"];

    [Theory]
    [MemberData(nameof(Fields))]
    public async Task Each_of_the_four_fields_must_match(string field)
    {
        using var client = fixture.CreateClient();
        var key = NewKey();
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the poll is parked");

        var other = field switch
        {
            "deployment" => key with { Deployment = key.Deployment + "_other" },
            "version" => key with { Version = "20261126.9" },
            "cpu" => key with { Cpu = "1" },
            _ => key with { Memory = "2" },
        };
        Assert.False(await DispatchAsync(client, other, "run_mismatch"));
        Assert.False(poll.IsCompleted);

        // The controller is still parked and takes the run that does match.
        Assert.True(await DispatchAsync(client, key, "run_match"));
        using var response = await poll;
        Assert.Equal("run_match", RunIdOf(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task Sizes_match_numerically_whatever_their_spelling()
    {
        using var client = fixture.CreateClient();
        var key = NewKey(cpu: "1", memory: "0.25");
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the poll is parked");

        using var dispatch = await client.SendAsync(Dispatch(DispatchBody(Message(key, "run_numeric", cpuJson: "1.0", memoryJson: "2.5e-1"))));
        Assert.True(await ReadDidWarmStartAsync(dispatch));
        using var response = await poll;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_deployment_token_matches_on_its_deployment_claim()
    {
        using var client = fixture.CreateClient();
        var key = NewKey();
        var payload = Convert.ToBase64String(Encoding.UTF8.GetBytes($$"""{"deployment":"{{key.Deployment}}","ver":"1"}""")).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var poll = client.SendAsync(Poll(key with { Deployment = $"eyJhbGciOiJIUzI1NiJ9.{payload}.c2lnbmF0dXJl" }));
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the poll is parked under the claim");

        Assert.True(await DispatchAsync(client, key, "run_token"));
        using var response = await poll;
        Assert.Equal("run_token", RunIdOf(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task An_aborted_poll_leaves_the_pool_and_is_never_handed_a_run()
    {
        using var client = fixture.CreateClient();
        var key = NewKey();
        using var abort = new CancellationTokenSource();
        var poll = client.SendAsync(Poll(key), abort.Token);
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the poll is parked");

        await abort.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);
        await EventuallyAsync(() => !fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the aborted poll has left the pool");

        Assert.False(await DispatchAsync(client, key, "run_after_abort"));
    }

    [Fact]
    public async Task The_most_recently_parked_controller_is_chosen_first()
    {
        using var client = fixture.CreateClient();
        var key = NewKey();
        var older = client.SendAsync(Poll(key, "older"));
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment), "the older poll is parked");
        var newer = client.SendAsync(Poll(key, "newer"));
        await EventuallyAsync(() => fixture.Broker.Pool.CountByKey().Any(pair => pair.Key.Deployment == key.Deployment && pair.Value == 2), "both polls are parked");

        Assert.True(await DispatchAsync(client, key, "run_first"));
        using (var response = await newer)
        {
            Assert.Equal("run_first", RunIdOf(await response.Content.ReadAsStringAsync()));
        }

        Assert.False(older.IsCompleted);
        Assert.True(await DispatchAsync(client, key, "run_second"));
        using var olderResponse = await older;
        Assert.Equal("run_second", RunIdOf(await olderResponse.Content.ReadAsStringAsync()));
    }
}
