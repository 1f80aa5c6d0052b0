using System.Diagnostics;
using System.Globalization;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>
/// A real redis-server (Debian's) of the test's own, on a free loopback port, with persistence off: stopped and
/// started again it comes back empty, as a restarted Redis without persistence does.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string ServerPath = "/usr/bin/redis-server";

    private Process? _process;

    private RedisServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>The StackExchange.Redis configuration string of this server.</summary>
    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>Starts a server on a free port (installing Debian's redis-server first if it is missing).</summary>
    public static async Task<RedisServer> StartAsync()
    {
        await EnsureInstalledAsync();
        var server = new RedisServer(HostProcess.FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts the server again on its port, empty.</summary>
    public async Task StartAgainAsync()
    {
        var start = new ProcessStartInfo(ServerPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in (string[])["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--protected-mode", "no", "--daemonize", "no"])
        {
            start.ArgumentList.Add(argument);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data?.Contains("Ready to accept connections", StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        var started = await Task.WhenAny(ready.Task, process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(10)));
        if (started != ready.Task)
        {
            await StopAsync();
            Assert.Fail($"redis-server did not start on port {Port}.");
        }
    }

    /// <summary>Kills the server at once (as a crash would); its data is gone.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private static async Task EnsureInstalledAsync()
    {
        if (File.Exists(ServerPath) || !File.Exists("/usr/bin/apt-get"))
        {
            Assert.True(File.Exists(ServerPath), $"redis-server is missing at {ServerPath}: install Debian's redis-server package (as .ci/run does).");
            return;
        }

        var root = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        var script = "export DEBIAN_FRONTEND=noninteractive; apt-get update -qq; apt-get install -y -qq redis-server";
        var start = new ProcessStartInfo(root ? "/bin/sh" : "sudo") { RedirectStandardOutput = true, RedirectStandardError = true };
        string[] arguments = root ? ["-c", script] : ["-n", "/bin/sh", "-c", script];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var install = Process.Start(start)!;
        var stderr = install.StandardError.ReadToEndAsync();
        await install.StandardOutput.ReadToEndAsync();
        await install.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(10));
        Assert.True(File.Exists(ServerPath), $"Installing Debian's redis-server failed (exit {install.ExitCode}): {await stderr}");
    }
}
