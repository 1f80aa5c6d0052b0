using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
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
