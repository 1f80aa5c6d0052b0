using System.Diagnostics;
using System.Text.Json;

namespace Firestarter.IntegrationTests.RealClient;

/// <summary>
/// Trigger.dev's own client code (<c>@trigger.dev/core</c>, pinned in tests/node/package.json) run by node against
/// a broker: tests/node/churn.mjs, whose JSON summary a test reads.
/// </summary>
/// <remarks>
/// The packages are installed by .ci/run; when they are missing (a fresh clone run with <c>dotnet test</c> alone),
/// the first test installs them with <c>npm ci</c>, and node and npm themselves with apt-get where that exists.
/// </remarks>
internal static class TriggerClient
{
    private static readonly Lazy<Task> Installed = new(InstallAsync);

    /// <summary>tests/node of this repository.</summary>
    public static string Folder { get; } = FindFolder();

    /// <summary>Runs churn.mjs with <paramref name="settings"/> (merged over its defaults) and returns its summary.</summary>
    public static async Task<JsonElement> ChurnAsync(Uri broker, IReadOnlyDictionary<string, object> settings, TimeSpan limit)
    {
        await Installed.Value;
        var output = Path.Combine(Path.GetTempPath(), $"firestarter-churn-{Guid.NewGuid():N}.json");
        var merged = new Dictionary<string, object>(settings) { ["broker"] = broker.ToString().TrimEnd('/'), ["out"] = output };
        try
        {
            var (exit, log) = await RunAsync("node", [Path.Combine(Folder, "churn.mjs"), JsonSerializer.Serialize(merged)], limit);
            Assert.True(exit == 0 && File.Exists(output), $"churn.mjs failed (exit {exit}): {log}");
            using var summary = JsonDocument.Parse(await File.ReadAllTextAsync(output));
            return summary.RootElement.Clone();
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static async Task InstallAsync()
    {
        if (Directory.Exists(Path.Combine(Folder, "node_modules", "@trigger.dev", "core")))
        {
            return;
        }

        if (!OnPath("npm") && File.Exists("/usr/bin/apt-get"))
        {
            var root = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
            const string script = "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq nodejs npm";
            await RunAsync(root ? "/bin/sh" : "sudo", root ? ["-c", script] : ["-n", "/bin/sh", "-c", script], TimeSpan.FromMinutes(10));
        }

        var (exit, log) = await RunAsync("npm", ["ci", "--no-audit", "--no-fund", "--prefix", Folder], TimeSpan.FromMinutes(5));
        Assert.True(exit == 0, $"npm ci in {Folder} failed (exit {exit}): {log}");
    }

    private static async Task<(int Exit, string Log)> RunAsync(string file, string[] arguments, TimeSpan limit)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Folder,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(limit);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {limit}.");
        }

        return (process.ExitCode, Tail(await stdout) + Tail(await stderr));
    }

    private static string Tail(string text) => text.Length <= 2000 ? text : text[^2000..];

    private static bool OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':').Any(dir => File.Exists(Path.Combine(dir, name)));

    private static string FindFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Firestarter.sln")))
            {
                return Path.Combine(dir.FullName, "tests", "node");
            }
        }

        throw new InvalidOperationException($"No Firestarter.sln above {AppContext.BaseDirectory}.");
    }
}
