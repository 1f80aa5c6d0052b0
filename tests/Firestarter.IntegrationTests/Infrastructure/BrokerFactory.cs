using Firestarter.Matching;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>
/// The real host (<c>src/ProxyHost</c>'s Program with the shipped appsettings.json) on real Kestrel, on a loopback
/// port of its own, with test settings layered on top.
/// </summary>
public sealed class BrokerFactory : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    /// <param name="settings">Configuration layered over the shipped appsettings.json.</param>
    /// <param name="services">Service overrides (applied after the host's own).</param>
    /// <param name="kestrel">Real Kestrel on loopback (the default), or the in-memory test server for pipeline and configuration tests.</param>
    public BrokerFactory(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, bool kestrel = true)
    {
        _settings = new(settings ?? new Dictionary<string, string?>());
        // The shipped configuration probes the clusters (YARP active health checks); tests point the clusters at stub
        // backends that record every request, so probing stays off unless a test turns it on.
        foreach (var cluster in (string[])["supervisor", "cold-start"])
        {
            _settings.TryAdd($"ReverseProxy:Clusters:{cluster}:HealthCheck:Active:Enabled", "false");
        }

        _services = services;
        if (kestrel)
        {
            // Not UseKestrel(0): that rewrites the server's addresses after the app has started binding, a race
            // that fails now and then (dotnet/aspnetcore#67714). A port-0 URL in the host's settings does the same.
            UseKestrel();
            _settings.TryAdd(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
        }
    }

    /// <summary>The broker's base address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
            return new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        }
    }

    internal WarmPool Pool => Services.GetRequiredService<WarmPool>();

    /// <summary>Starts the broker and returns its address.</summary>
    public Uri Start() => BaseAddress;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureAppConfiguration(config => config.AddInMemoryCollection(_settings));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }
}
