using Firestarter.IntegrationTests.Infrastructure;

namespace Firestarter.IntegrationTests;

/// <summary>One broker with the default configuration, shared by a test class; tests use keys of their own.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    public BrokerFactory Broker { get; } = new();

    public Uri Address { get; private set; } = null!;

    /// <summary>A client whose every concurrent request gets its own connection, as each controller has its own.</summary>
    public HttpClient CreateClient() => new(new SocketsHttpHandler { MaxConnectionsPerServer = int.MaxValue })
    {
        BaseAddress = Address,
        Timeout = TimeSpan.FromSeconds(30),
    };

    public Task InitializeAsync()
    {
        Address = Broker.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Broker.DisposeAsync();
}
