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
