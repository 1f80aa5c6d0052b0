using System.Globalization;

namespace Firestarter.LoadTool;

/// <summary>Which half of the load a process generates, so one measurement can be spread over several processes.</summary>
public enum LoadRole
{
    /// <summary>Controllers and dispatchers in one process; exactness is checked in-process.</summary>
    All,

    /// <summary>Only long-polling controllers (run for Warmup + Duration seconds, or until cancelled).</summary>
    Controllers,

    /// <summary>Only dispatching supervisors.</summary>
    Dispatchers,
}

/// <summary>
/// What to run. Bound from the command line (<c>--Name value</c>); every property has a usable default.
/// Times are in seconds unless the name says otherwise.
/// </summary>
public sealed class LoadOptions
{
    /// <summary>Base URL(s) of the broker, comma-separated; used by both sides unless overridden below.</summary>
    public string Target { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Base URL(s) for controllers only (comma-separated); controller i uses entry i mod count.</summary>
    public string? ControllerTarget { get; set; }

    /// <summary>Base URL(s) for dispatchers only (comma-separated); dispatcher i uses entry i mod count.</summary>
    public string? DispatcherTarget { get; set; }

    /// <summary>Concurrent long-polling controllers, each on its own connection.</summary>
    public int Controllers { get; set; } = 500;

    /// <summary>Concurrent dispatchers, each a closed loop of <c>POST /warm-start</c>.</summary>
    public int Dispatchers { get; set; } = 50;

    /// <summary>Distinct match keys (deployment, version, cpu, memory); both sides spread over them.</summary>
    public int Keys { get; set; } = 10;

    /// <summary>
    /// Put all of a key's controllers on one target (key k on target k mod T), as the one or two idle controllers of a
    /// deployment land behind a load balancer, instead of spreading each key over every target.
    /// </summary>
    public bool SparseKeys { get; set; }

    /// <summary>Fraction (0..1) of polls a controller abandons: it closes the connection after a random delay.</summary>
    public double AbortRate { get; set; }

    /// <summary>Upper bound of the random delay (milliseconds) before an abandoned poll is aborted.</summary>
    public int AbortMaxDelayMs { get; set; } = 50;

    /// <summary>Measured seconds (dispatches/s, hit rate and latency cover only this window).</summary>
    public double Duration { get; set; } = 10;

    /// <summary>Seconds of load before the measured window.</summary>
    public double Warmup { get; set; }

    /// <summary>Most seconds to wait, after the dispatchers stop, for runs still on their way to controllers.</summary>
    public double Drain { get; set; } = 2;

    /// <summary>Which side(s) this process runs.</summary>
    public LoadRole Role { get; set; } = LoadRole.All;

    /// <summary>
    /// Prefix of the run ids this process dispatches (run id = prefix + sequence number). Must end with a
    /// non-digit. Default: <c>run_</c> plus a random tag, so several dispatcher processes never collide.
    /// </summary>
    public string? RunIdPrefix { get; set; }

    /// <summary>Client-side poll timeout (the real controller's <c>connectionTimeoutMs</c>): the poll is aborted and re-sent.</summary>
    public double PollTimeout { get; set; } = 30;

    /// <summary>Client-side timeout of one dispatch; a timed-out dispatch counts as a transport error.</summary>
    public double DispatchTimeout { get; set; } = 10;

    /// <summary>Most TCP connects in progress at once (protects the broker's accept backlog at start-up).</summary>
    public int ConnectConcurrency { get; set; } = 256;

    /// <summary>Most seconds to wait for every controller to have its first poll on the wire before dispatching.</summary>
    public double StartupTimeout { get; set; } = 60;

    /// <summary>File to append every received run id to (<c>recv ID</c> lines), for the <c>merge</c> command.</summary>
    public string? ReceivedLog { get; set; }

    /// <summary>File to append every dispatched run id and its answer to (<c>hit|miss|error ID</c> lines).</summary>
    public string? DispatchLog { get; set; }

    /// <summary>Seed for the abort decisions and delays; random when not set.</summary>
    public int? Seed { get; set; }

    /// <summary>
    /// Command line only: judge exactness (the exit code) allowing lost runs that the client-side abort race accounts
    /// for (<see cref="LoadReport.ExactnessPassedAllowingAbortRace"/>). Duplicates and the rest still fail.
    /// </summary>
    public bool AllowAbortRace { get; set; }

    /// <summary>Command line only: print the report as one JSON line on stdout (the text block goes to stderr).</summary>
    public bool Json { get; set; }

    /// <summary>The controllers' base URLs.</summary>
    public IReadOnlyList<Uri> GetControllerTargets() => ParseTargets(ControllerTarget ?? Target);

    /// <summary>The dispatchers' base URLs.</summary>
    public IReadOnlyList<Uri> GetDispatcherTargets() => ParseTargets(DispatcherTarget ?? Target);

    /// <summary>Every problem with these options; empty when they can be run.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckTargets(nameof(Target), Target, errors);
        if (ControllerTarget is not null)
        {
            CheckTargets(nameof(ControllerTarget), ControllerTarget, errors);
        }

        if (DispatcherTarget is not null)
        {
            CheckTargets(nameof(DispatcherTarget), DispatcherTarget, errors);
        }

        if (Controllers < 0)
        {
            errors.Add("Controllers must be >= 0.");
        }

        if (Dispatchers < 0)
        {
            errors.Add("Dispatchers must be >= 0.");
        }

        if (Role == LoadRole.Controllers && Controllers == 0)
        {
            errors.Add("Role controllers needs Controllers > 0.");
        }

        if (Role == LoadRole.Dispatchers && Dispatchers == 0)
        {
            errors.Add("Role dispatchers needs Dispatchers > 0.");
        }

        if (Keys < 1)
        {
            errors.Add("Keys must be >= 1.");
        }

        if (!(AbortRate >= 0 && AbortRate <= 1))
        {
            errors.Add("AbortRate must be between 0 and 1.");
        }

        if (AbortMaxDelayMs < 0)
        {
            errors.Add("AbortMaxDelayMs must be >= 0.");
        }

        Positive(nameof(Duration), Duration, errors);
        Positive(nameof(PollTimeout), PollTimeout, errors);
        Positive(nameof(DispatchTimeout), DispatchTimeout, errors);
        Positive(nameof(StartupTimeout), StartupTimeout, errors);
        NotNegative(nameof(Warmup), Warmup, errors);
        NotNegative(nameof(Drain), Drain, errors);
        if (ConnectConcurrency < 1)
        {
            errors.Add("ConnectConcurrency must be >= 1.");
        }

        if (RunIdPrefix is not null)
        {
            if (RunIdPrefix.Length == 0 || RunIdPrefix.Length > 64 || !RunIdPrefix.All(IsIdChar))
            {
                errors.Add("RunIdPrefix must be 1-64 characters of A-Z, a-z, 0-9, '_', '-', '.', ':'.");
            }
            else if (char.IsAsciiDigit(RunIdPrefix[^1]))
            {
                // "run_1" + 23 and "run_12" + 3 would both be "run_123".
                errors.Add("RunIdPrefix must end with a non-digit, e.g. 'run_a_'.");
            }
        }

        return errors;
    }

    internal static bool IsIdChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':';

    private static void Positive(string name, double value, List<string> errors)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            errors.Add($"{name} must be a positive number of seconds.");
        }
    }

    private static void NotNegative(string name, double value, List<string> errors)
    {
        if (!(value >= 0) || double.IsInfinity(value))
        {
            errors.Add($"{name} must be a number of seconds >= 0.");
        }
    }

    private static void CheckTargets(string name, string value, List<string> errors)
    {
        var parts = Split(value);
        if (parts.Length == 0)
        {
            errors.Add($"{name} must name at least one base URL.");
        }

        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{name}: '{part}' is not an absolute http(s) URL."));
            }
        }
    }

    private static string[] Split(string value) =>
        value.Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Uri[] ParseTargets(string value)
    {
        var parts = Split(value);
        var targets = new Uri[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            // A trailing slash makes "warm-start" resolve under a path prefix instead of replacing its last segment.
            var text = parts[i].EndsWith('/') ? parts[i] : parts[i] + "/";
            targets[i] = new Uri(text, UriKind.Absolute);
        }

        return targets;
    }
}
