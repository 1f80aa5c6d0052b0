using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Firestarter.IntegrationTests.Infrastructure;
using static Firestarter.IntegrationTests.Infrastructure.WarmStart;

namespace Firestarter.IntegrationTests.Security;

/// <summary>With API keys set, only a dispatch that presents one is handled; the rest get 401 and reach nobody.</summary>
public sealed class DispatchKeyTests
{
    private const string KeyA = "dispatch-key-aaaaaaaaaaaaaaaa";
    private const string KeyB = "dispatch-key-bbbbbbbbbbbbbbbb";

    private static Dictionary<string, string?> Settings(Uri? coldStart = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Firestarter:Security:DispatchApiKeys:0"] = KeyA,
            ["Firestarter:Security:DispatchApiKeys:1"] = KeyB,
        };
        if (coldStart is not null)
        {
            settings["Firestarter:ColdStart:Mode"] = "Forward";
            settings["ReverseProxy:Clusters:cold-start:Destinations:cold-start-1:Address"] = coldStart.ToString();
        }

        return settings;
    }

    public static TheoryData<string?> WrongAuthorization => new()
    {
        null,
        "Bearer",
        "Bearer ",
        "Bearer dispatch-key-aaaaaaaaaaaaaaaX",
        "Bearer dispatch-key-aaaaaaaaaaaaaaa",
        "Basic ZGlzcGF0Y2g6a2V5",
        KeyA,
    };

    [Theory]
    [MemberData(nameof(WrongAuthorization))]
    public async Task A_dispatch_without_a_valid_key_gets_401_and_neither_reaches_a_controller_nor_the_backend(string? authorization)
    {
        await using var backend = await StubBackend.StartAsync(context => context.Response.WriteAsync("""{"didWarmStart":false}"""));
        await using var broker = new BrokerFactory(Settings(backend.Address));
        using var client = new HttpClient { BaseAddress = broker.Start() };
        var key = Key.Default with { Deployment = $"deployment_{Guid.NewGuid():N}" };
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        using var request = Dispatch(DispatchBody(Message(key, "run_stolen")));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(backend.Requests);
        Assert.False(poll.IsCompleted);
        Assert.Equal(1, broker.Pool.ParkedCount);
    }

    [Theory]
    [InlineData(KeyA)]
    [InlineData(KeyB)]
    public async Task A_dispatch_with_any_configured_key_is_handled(string apiKey)
    {
        await using var broker = new BrokerFactory(Settings());
        using var client = new HttpClient { BaseAddress = broker.Start() };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        var key = Key.Default with { Deployment = $"deployment_{Guid.NewGuid():N}" };
        var poll = client.SendAsync(Poll(key));
        await EventuallyAsync(() => broker.Pool.ParkedCount == 1, "the poll is parked");

        Assert.True(await DispatchAsync(client, key, "run_authorized"));
        using var response = await poll;
        Assert.Equal("run_authorized", RunIdOf(await response.Content.ReadAsStringAsync()));
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 0)]
    public async Task The_host_warns_at_start_when_dispatch_is_open(bool withKeys, int warnings)
    {
        var capture = new CapturingLoggerProvider();
        await using var broker = new BrokerFactory(withKeys ? Settings() : null, services => services.AddSingleton<ILoggerProvider>(capture), kestrel: false);
        broker.Start();
        Assert.Equal(warnings, capture.Events.Count(e => e.Id == 705 && e.Level == LogLevel.Warning));
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider, ILogger
    {
        public System.Collections.Concurrent.ConcurrentQueue<(EventId Id, LogLevel Level)> Events { get; } = new();

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Events.Enqueue((eventId, logLevel));

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task Polls_and_connect_need_no_dispatch_key()
    {
        await using var broker = new BrokerFactory(Settings());
        using var client = new HttpClient { BaseAddress = broker.Start() };
        using var connect = await client.GetAsync(new Uri("/connect", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, connect.StatusCode);
    }
}
