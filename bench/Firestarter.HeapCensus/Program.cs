// A census of a running .NET process's live managed heap, by type.
//
// It asks the runtime, through an EventPipe session, for a full blocking GC followed by a walk of the heap (the events
// dotnet-gcdump uses) and sums the walked objects by type. Unlike dotnet-gcdump it also names the types of a Native
// AOT process: that runtime's type events carry no names, but each type's id is the address of its MethodTable, and
// the executable's symbols (ProxyHost.dbg beside the published executable) name every MethodTable.
//
//   dotnet Firestarter.HeapCensus.dll --pid PID [--symbols FILE.dbg] [--top N] [--select TEXT] [--json true]
//
// --top lists the N types with the most bytes; --select also lists every type whose name contains TEXT.
using System.Diagnostics;
using System.Diagnostics.Tracing;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Firestarter.HeapCensus;
using Microsoft.Diagnostics.NETCore.Client;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

var options = Options.Parse(args);
if (options is null)
{
    Console.Error.WriteLine("usage: Firestarter.HeapCensus --pid PID [--symbols FILE] [--top N] [--select TEXT] [--json true]");
    return 2;
}

var census = Census.Take(options.Pid, TimeSpan.FromSeconds(60));
var names = census.Names;
if (options.Symbols is { } symbols)
{
    foreach (var (id, name) in SymbolNames.ForMethodTables(options.Pid, symbols, census.ByType.Keys))
    {
        // Native AOT's type events name no type: the symbol's name replaces the empty one.
        if (!names.TryGetValue(id, out var given) || given.Length == 0)
        {
            names[id] = name;
        }
    }
}

var types = census.ByType
    .Select(kv => new TypeTotal(names.TryGetValue(kv.Key, out var n) && n.Length > 0 ? n : $"0x{kv.Key:x}", kv.Value.Count, kv.Value.Bytes))
    .OrderByDescending(t => t.Bytes)
    .ToList();
var selected = options.Select is { } text ? types.Where(t => t.Name.Contains(text, StringComparison.Ordinal)).ToList() : [];
var report = new Report(types.Sum(t => t.Bytes), types.Sum(t => t.Count), types.Count, types.Take(options.Top).ToList(), selected);
if (options.Json)
{
    Console.WriteLine(JsonSerializer.Serialize(report, CensusJson.Default.Report));
}
else
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{report.HeapBytes:N0} bytes in {report.Objects:N0} objects of {report.Types:N0} types"));
    foreach (var t in report.Top.Concat(report.Selected).Distinct())
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{t.Bytes,12:N0} {t.Count,9:N0}  {t.Name}"));
    }
}

return census.ByType.Count > 0 ? 0 : 1;

namespace Firestarter.HeapCensus
{
    internal sealed record Options(int Pid, string? Symbols, int Top, string? Select, bool Json)
    {
        public static Options? Parse(string[] args)
        {
            int? pid = null;
            string? symbols = null;
            string? select = null;
            var top = 25;
            var json = false;
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                var value = args[i + 1];
                switch (args[i])
                {
                    case "--pid": pid = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--symbols": symbols = value; break;
                    case "--select": select = value; break;
                    case "--top": top = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--json": json = bool.Parse(value); break;
                    default: return null;
                }
            }

            return pid is { } p && args.Length % 2 == 0 ? new Options(p, symbols, top, select, json) : null;
        }
    }

    internal sealed record TypeTotal(string Name, long Count, long Bytes);

    internal sealed record Report(long HeapBytes, long Objects, int Types, List<TypeTotal> Top, List<TypeTotal> Selected);

    [System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
    [System.Text.Json.Serialization.JsonSerializable(typeof(Report))]
    internal sealed partial class CensusJson : System.Text.Json.Serialization.JsonSerializerContext;

    /// <summary>The walked heap, summed by type id; the names the runtime gave (none on Native AOT).</summary>
    internal sealed class Census
    {
        public Dictionary<ulong, (long Count, long Bytes)> ByType { get; } = [];

        public Dictionary<ulong, string> Names { get; } = [];

        public static Census Take(int pid, TimeSpan timeout)
        {
            var census = new Census();
            var client = new DiagnosticsClient(pid);
            // GC, GCHeapCollect, GCHeapDump, GCHeapAndTypeNames and Type: enabling these induces a blocking gen2 GC
            // whose heap walk is sent as bulk node and type events.
            EventPipeProvider[] providers =
            [
                new(ClrTraceEventParser.ProviderName, EventLevel.Verbose, (long)ClrTraceEventParser.Keywords.GCHeapSnapshot),
            ];
            using var session = client.StartEventPipeSession(providers, requestRundown: false, circularBufferMB: 256);
            using var source = new EventPipeEventSource(session.EventStream);
            var lastNode = Stopwatch.StartNew();
            var walking = 0;
            var stopping = 0;
            source.Clr.GCBulkNode += data =>
            {
                for (var i = 0; i < data.Count; i++)
                {
                    var node = data.Values(i);
                    census.ByType.TryGetValue(node.TypeID, out var total);
                    census.ByType[node.TypeID] = (total.Count + 1, total.Bytes + (long)node.Size);
                }

                lock (lastNode)
                {
                    lastNode.Restart();
                }

                Volatile.Write(ref walking, 1);
            };
            source.Clr.TypeBulkType += data =>
            {
                for (var i = 0; i < data.Count; i++)
                {
                    var type = data.Values(i);
                    census.Names.TryAdd(type.TypeID, type.TypeName);
                }
            };

            // The walk has no end event of its own: it is over once its node events have stopped for a second.
            using var stopper = new Timer(_ =>
            {
                TimeSpan quiet;
                lock (lastNode)
                {
                    quiet = lastNode.Elapsed;
                }

                if (((Volatile.Read(ref walking) == 1 && quiet > TimeSpan.FromSeconds(1)) || quiet > timeout)
                    && Interlocked.Exchange(ref stopping, 1) == 0)
                {
                    try
                    {
                        session.Stop();
                    }
                    catch (Exception ex) when (ex is ServerNotAvailableException or ServerErrorException or IOException)
                    {
                        // The process went away: its stream ends, and so does the census.
                        Console.Error.WriteLine($"The session could not be stopped: {ex.Message}");
                    }
                }
            }, null, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(200));
            source.Process();
            return census;
        }
    }

    /// <summary>Names Native AOT MethodTables from the executable's symbols (<c>nm</c>, from binutils).</summary>
    internal static partial class SymbolNames
    {
        public static IEnumerable<(ulong Id, string Name)> ForMethodTables(int pid, string symbolFile, IEnumerable<ulong> ids)
        {
            var loadBias = LoadBias(pid);
            var byOffset = MethodTables(symbolFile);
            foreach (var id in ids)
            {
                if (id >= loadBias && byOffset.TryGetValue(id - loadBias, out var name))
                {
                    yield return (id, name);
                }
            }
        }

        // MethodTable symbols by their offset in the executable; none (and a warning) without nm.
        private static Dictionary<ulong, string> MethodTables(string symbolFile)
        {
            var byOffset = new Dictionary<ulong, string>();
            Process nm;
            try
            {
                nm = Process.Start(new ProcessStartInfo("nm", [symbolFile]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                Console.Error.WriteLine($"Native AOT types stay unnamed: nm (binutils) could not be started: {ex.Message}");
                return byOffset;
            }

            using (nm)
            {
                nm.ErrorDataReceived += (_, _) => { };
                nm.BeginErrorReadLine();
                while (nm.StandardOutput.ReadLine() is { } line)
                {
                    // "0000000001c6e238 b _ZTV27S_P_CoreLib_System_String": a MethodTable, its name's length first.
                    var parts = line.Split(' ', 3);
                    if (parts.Length == 3 && parts[2].StartsWith("_ZTV", StringComparison.Ordinal))
                    {
                        byOffset[ulong.Parse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = LengthPrefix().Replace(parts[2], "");
                    }
                }

                nm.WaitForExit();
            }

            return byOffset;
        }

        // Where the executable is loaded: the start of its first mapping (file offset 0) in /proc/PID/maps.
        private static ulong LoadBias(int pid)
        {
            var exe = File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: true)?.FullName;
            foreach (var line in File.ReadLines($"/proc/{pid}/maps"))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 6 && fields[5] == exe && fields[2].All(c => c == '0'))
                {
                    return ulong.Parse(fields[0].Split('-')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                }
            }

            return 0;
        }

        [GeneratedRegex(@"^_ZTV\d+")]
        private static partial Regex LengthPrefix();
    }
}
