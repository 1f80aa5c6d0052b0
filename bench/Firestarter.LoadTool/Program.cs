// Firestarter load tool: the command line around LoadRunner (a load run) and RunLog.Merge (the cross-process check).
// Exit codes: 0 = done and exact, 1 = exactness failed, 2 = bad arguments or the target could not be reached.
using System.Runtime.InteropServices;
using Firestarter.LoadTool;
using Microsoft.Extensions.Configuration;

// Socket completions run their continuations on the epoll threads instead of hopping to the thread pool: about a
// quarter less client CPU per dispatch. The runtime reads it when the first socket is made, so it is set before that.
const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";
if (Environment.GetEnvironmentVariable(InlineCompletions) is null)
{
    Environment.SetEnvironmentVariable(InlineCompletions, "1");
}

const string Usage = """
    usage: Firestarter.LoadTool [run] [--Name value ...]     one load run (options: see README.md)
           Firestarter.LoadTool merge --Files A.log B.log ... [--Json true] [--AllowAbortRace true]
    e.g.   Firestarter.LoadTool --Target http://127.0.0.1:8080 --Controllers 500 --Dispatchers 50 --Duration 10 --AbortRate 0.1

    """;

if (args is [] || args[0] is not ("-h" or "--help" or "help"))
{
    return args is ["merge", ..] ? Merge(args[1..]) : await RunAsync(args is ["run", ..] ? args[1..] : args);
}

Console.Out.Write(Usage);
return 0;

static async Task<int> RunAsync(string[] args)
{
    var options = new LoadOptions();
    try
    {
        ThrowOnStrayArguments(args);
        new ConfigurationBuilder().AddCommandLine(args).Build()
            .Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
    }
    catch (Exception ex) when (ex is InvalidOperationException or FormatException)
    {
        return Fail(ex.Message);
    }

    if (options.Validate() is { Count: > 0 } errors)
    {
        return Fail(string.Join(Environment.NewLine, errors));
    }

    // First Ctrl+C or SIGTERM: stop gracefully and still report (and write the logs); a second one kills.
    using var stop = new CancellationTokenSource();
    void Stop(string signal)
    {
        Console.Error.WriteLine($"{signal}: stopping, the report follows ({signal} again to kill)");
        stop.Cancel();
    }

    Console.CancelKeyPress += (_, e) =>
    {
        if (!stop.IsCancellationRequested)
        {
            e.Cancel = true;
            Stop("Ctrl+C");
        }
    };
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
    {
        if (!stop.IsCancellationRequested)
        {
            context.Cancel = true;
            Stop("SIGTERM");
        }
    });

    LoadReport report;
    try
    {
        report = await LoadRunner.RunAsync(options, Console.Error, stop.Token);
    }
    catch (InvalidOperationException ex)
    {
        Console.Error.WriteLine($"error: {ex.Message}");
        return 2;
    }
    catch (OperationCanceledException)
    {
        Console.Error.WriteLine("cancelled before the load started");
        return 2;
    }

    Print(ReportText.ToText(report), ReportText.ToJson(report), options.Json);
    return (options.AllowAbortRace ? report.ExactnessPassedAllowingAbortRace : report.ExactnessPassed) ? 0 : 1;
}

static int Merge(string[] args)
{
    var files = new List<string>();
    var json = false;
    var allowAbortRace = false;
    for (var i = 0; i < args.Length; i++)
    {
        var arg = args[i];
        if (BoolOption(args, ref i, "--Json", ref json, out var error) || BoolOption(args, ref i, "--AllowAbortRace", ref allowAbortRace, out error))
        {
            if (error is not null)
            {
                return Fail(error);
            }
        }
        else if (arg.Equals("--Files", StringComparison.OrdinalIgnoreCase))
        {
            // The file names follow, up to the next option.
        }
        else if (arg.StartsWith("--", StringComparison.Ordinal))
        {
            return Fail($"merge: unknown option '{arg}'.");
        }
        else
        {
            files.Add(arg);
        }
    }

    if (files.Count == 0)
    {
        return Fail("merge: no files (merge --Files A.log B.log ...).");
    }

    MergeReport report;
    try
    {
        report = RunLog.Merge(files);
    }
    catch (IOException ex)
    {
        return Fail(ex.Message);
    }
    catch (UnauthorizedAccessException ex)
    {
        return Fail(ex.Message);
    }

    Print(ReportText.ToText(report), ReportText.ToJson(report), json);
    return (allowAbortRace ? report.ExactnessPassedAllowingAbortRace : report.ExactnessPassed) ? 0 : 1;
}

// "--Name", "--Name true|false" or "--Name=true|false" at args[i]; false when args[i] is another option.
static bool BoolOption(string[] args, ref int i, string name, ref bool value, out string? error)
{
    error = null;
    var arg = args[i];
    string text;
    if (arg.Equals(name, StringComparison.OrdinalIgnoreCase))
    {
        text = i + 1 < args.Length && bool.TryParse(args[i + 1], out _) ? args[++i] : "true";
    }
    else if (arg.StartsWith(name + "=", StringComparison.OrdinalIgnoreCase))
    {
        text = arg[(name.Length + 1)..];
    }
    else
    {
        return false;
    }

    if (!bool.TryParse(text, out value))
    {
        error = $"{name}: '{text}' is not true or false.";
    }

    return true;
}

// AddCommandLine silently skips a word that is neither an option nor an option's value ("--Controllers 5 00").
static void ThrowOnStrayArguments(string[] args)
{
    for (var i = 0; i < args.Length; i++)
    {
        var arg = args[i];
        var isOption = arg.StartsWith('-') || arg.StartsWith('/');
        if (!isOption)
        {
            throw new FormatException($"Unexpected argument '{arg}': options are --Name value or --Name=value.");
        }

        if (!arg.Contains('=', StringComparison.Ordinal))
        {
            i++; // its value
        }
    }
}

// With JSON, stdout carries exactly one JSON line and the text block goes to stderr.
static void Print(string text, string json, bool asJson)
{
    if (asJson)
    {
        Console.Error.Write(text);
        Console.Out.WriteLine(json);
    }
    else
    {
        Console.Out.Write(text);
    }
}

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    Console.Error.Write(Usage);
    return 2;
}
