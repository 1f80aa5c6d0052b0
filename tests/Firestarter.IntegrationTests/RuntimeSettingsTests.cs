using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using System.Text.Json;

namespace Firestarter.IntegrationTests;

/// <summary>
/// The GC settings the host is built with, read from the runtime configuration the build wrote for it (the same
/// MSBuild properties give the native executable's compiled-in settings).
/// </summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void The_host_runs_workstation_GC_with_background_collection()
    {
        // The Web SDK turns server GC on unless the project says otherwise. Server GC gives the broker one heap and
        // one GC thread per CPU for a live heap of a few megabytes, and on Native AOT it crashes the process when a
        // heap dump (dotnet-gcdump) is taken on a machine with more than one CPU.
        using var config = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "ProxyHost.runtimeconfig.json")));
        var properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.True(properties.GetProperty("System.GC.Concurrent").GetBoolean());
    }
}

/// <summary>Kestrel's inline scheduling is the host's choice, made from Firestarter:ConfirmDelivery; the library leaves the transport alone.</summary>
public sealed class TransportSettingsTests
{
    [Theory]
    [InlineData("true", true)]
    [InlineData("false", false)]
    public async Task The_host_schedules_inline_while_ConfirmDelivery_is_on(string confirmDelivery, bool inline)
    {
        await using var broker = new Infrastructure.BrokerFactory(new Dictionary<string, string?> { ["Firestarter:ConfirmDelivery"] = confirmDelivery });
        broker.Start();

        var transport = broker.Services.GetRequiredService<IOptions<SocketTransportOptions>>().Value;

        Assert.Equal(inline, transport.UnsafePreferInlineScheduling);
    }

    [Fact]
    public void AddFirestarter_alone_leaves_the_transport_as_it_was()
    {
        using var services = new ServiceCollection().AddLogging().AddFirestarter(options => options.ConfirmDelivery = true).BuildServiceProvider();

        Assert.False(services.GetRequiredService<IOptions<SocketTransportOptions>>().Value.UnsafePreferInlineScheduling);
    }
}

/// <summary>The shipped logging configuration: no log scopes, which Kestrel would otherwise keep for every open connection.</summary>
public sealed class LoggingSettingsTests
{
    [Theory]
    [InlineData(null, false)]
    [InlineData("true", true)]
    public async Task The_shipped_host_captures_no_log_scopes_unless_configured(string? captureScopes, bool captured)
    {
        // Kestrel opens a log scope per connection and holds it, with its async-local context, for as long as the
        // connection lives: for every parked controller, though no shipped log output shows scopes.
        var settings = captureScopes is null ? null : new Dictionary<string, string?> { ["Logging:CaptureScopes"] = captureScopes };
        await using var broker = new Infrastructure.BrokerFactory(settings, kestrel: false);

        var filter = broker.Services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value;

        Assert.Equal(captured, filter.CaptureScopes);
    }
}
