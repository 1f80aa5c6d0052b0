using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Firestarter.IntegrationTests.Infrastructure;

/// <summary>
/// The real host as its own process (<c>dotnet exec ProxyHost.dll</c>, built beside the tests), for what only a
/// process shows: signals, exit, and a successor on the same port. Its console log is watched for events.
/// </summary>
public sealed partial class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _parkedEvents;

    private HostProcess(Process process) => _process = process;

    public int Id => _process.Id;

    /// <summary>Polls the host has logged as parked (event 100), so a test knows they are held before it acts.</summary>
    public int ParkedEvents => Volatile.Read(ref _parkedEvents);

    /// <summary>Every line the host has written to its standard output so far.</summary>
    public ConcurrentQueue<string> Output { get; } = new();

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Starts the host on <paramref name="port"/> and returns once it listens.</summary>
    public static Task<HostProcess> StartAsync(int port, params string[] settings) =>
        StartAsync(port, new Dictionary<string, string>(), settings);

    /// <summary>Starts the host on <paramref name="port"/> with extra environment variables and returns once it listens.</summary>
    public static async Task<HostProcess> StartAsync(int port, IReadOnlyDictionary<string, string> environment, params string[] settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        foreach (var argument in (string[])["exec", Path.Combine(AppContext.BaseDirectory, "ProxyHost.dll"), "--urls", $"http://127.0.0.1:{port}",
            "--Logging:LogLevel:Firestarter.Polling.PollHandler=Debug", "--Logging:Console:FormatterName=simple", .. settings])
        {
            start.ArgumentList.Add(argument);
        }

        var host = new HostProcess(Process.Start(start)!);
        host._process.OutputDataReceived += (_, line) => host.Observe(line.Data);
        host._process.ErrorDataReceived += (_, _) => { };
        host._process.BeginOutputReadLine();
        host._process.BeginErrorReadLine();
        var started = await Task.WhenAny(host._listening.Task, host._process.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(20)));
        if (started != host._listening.Task)
        {
            await host.DisposeAsync();
            Assert.Fail($"The host did not start listening on port {port}.");
        }

        return host;
    }

    /// <summary>Sends SIGTERM, as a container runtime or systemd does on stop.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public int ExitCode => _process.ExitCode;

    private void Observe(string? line)
    {
        if (line is null)
        {
            return;
        }

        Output.Enqueue(line);

        if (line.Contains("Now listening on", StringComparison.Ordinal))
        {
            _listening.TrySetResult();
        }
        else if (ParkedEvent().IsMatch(line))
        {
            Interlocked.Increment(ref _parkedEvents);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"PollHandler\[100\]")]
    private static partial Regex ParkedEvent();
}
