using ArchUnitNET.Domain;
using ArchUnitNET.Loader;

namespace Firestarter.Tests;

/// <summary>
/// The map of src/Firestarter.Middleware: which folder may use which. Read this first.
/// </summary>
/// <remarks>
/// Each folder is a namespace (<c>Firestarter.Matching</c> is <c>Matching/</c>); <see cref="Root"/> is the files at
/// the top: <see cref="FirestarterOptions"/> and its validation. The public extension methods (<c>AddFirestarter</c>,
/// <c>UseWarmStart</c>, <c>MapFirestarterOperations</c>, in Microsoft's namespaces) wire everything together and may
/// use any folder; no folder uses them. A dependency is any use of a type in the compiled code: a field, a parameter,
/// a call, a base type (not a <c>const</c>, which the compiler copies into its user).
/// </remarks>
public class ArchitectureTests
{
    private const string Root = "(root)";

    /// <summary>
    /// Folder: the folders it may use. Lower rows use only rows above them, so there is no cycle.
    /// A new folder gets a row here; the tests below fail until it has one.
    /// </summary>
    private static readonly (string Folder, string[] MayUse)[] Allowed =
    [
        // The matcher: match key, pool, parked poll. Uses no other folder.
        ("Matching", []),
        // The wire format: dispatch body, poll headers, problems, fixed answers.
        ("Protocol", ["Matching"]),
        // Metrics, event ids, outcome names and the recent dispatch windows.
        ("Diagnostics", ["Matching"]),
        // Deployment tokens and identities, dispatch keys.
        ("Security", ["Protocol", "Diagnostics"]),
        // How many controllers are held; per-client rate limits.
        ("Limits", ["Matching", "Protocol", "Diagnostics"]),
        // What a dispatch that no controller took gets: an answer, or a forward to the cold-start cluster.
        ("ColdStart", ["Protocol", "Diagnostics"]),
        // Confirmation of warm starts: dispatches waiting for their run's attempts/start, and the confirm route that
        // releases them (or hands a confirmation nobody here waits for to a cluster relay). Matching knows nothing of it.
        ("Confirmation", ["Protocol", "Diagnostics"]),
        // The admin endpoints' options (the Operations section) and who may call them.
        ("Admin", ["Security"]),
        // Several instances as one pool: the directory in Redis, leases, handing a dispatch on, checking a handed-on one.
        // Above the pool, which knows it only as an IKeyAvailabilityObserver; relays confirmations between instances.
        ("Cluster", ["Matching", "Protocol", "Diagnostics", "Security", "Confirmation"]),
        // FirestarterOptions (the configuration's root, holding each folder's options) and its validation.
        (Root, ["Matching", "ColdStart", "Confirmation", "Security", "Limits", "Admin", "Cluster"]),
        // GET /connect and GET /warm-start: park a controller until a run, expiry, abort or drain.
        ("Polling", [Root, "Matching", "Protocol", "Diagnostics", "Security", "Limits"]),
        // POST /warm-start: claim a controller, write the run into it, or take the cold-start path.
        ("Dispatching", [Root, "Matching", "Protocol", "Diagnostics", "Security", "ColdStart", "Confirmation", "Cluster"]),
        // Which YARP routes are the broker's, and handing them to their handler.
        ("Routing", ["Polling", "Dispatching", "Confirmation"]),
        // Expiry sweeps and the drain at shutdown.
        ("Lifetime", [Root, "Matching", "Diagnostics", "ColdStart", "Confirmation"]),
        // Readiness and the supervisor's health probes.
        ("Health", [Root, "Matching", "Diagnostics", "Admin"]),
        // The status JSON and page.
        ("Status", [Root, "Matching", "Diagnostics", "ColdStart", "Confirmation", "Admin", "Cluster"]),
    ];

    private static readonly Architecture Library =
        new ArchLoader().LoadAssemblies(typeof(FirestarterOptions).Assembly).Build();

    [Fact]
    public void Every_folder_uses_only_the_folders_on_its_row()
    {
        var allowed = Allowed.ToDictionary(row => row.Folder, row => row.MayUse.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        var violations = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (origin, target, from, to) in Edges())
        {
            if (allowed.TryGetValue(from, out var mayUse) && !mayUse.Contains(to))
            {
                violations.Add($"{from} -> {to}: {origin.FullName} uses {target.FullName}");
            }
        }

        Assert.True(violations.Count == 0, "Not on the map (ArchitectureTests.Allowed):\n" + string.Join('\n', violations));
    }

    [Fact]
    public void Every_folder_has_a_row()
    {
        var folders = Library.Types.Select(type => FolderOf(type.Namespace.FullName)).OfType<string>().ToHashSet(StringComparer.Ordinal);

        var missing = folders.Except(Allowed.Select(row => row.Folder)).ToList();

        Assert.True(missing.Count == 0, "Folders without a row in ArchitectureTests.Allowed: " + string.Join(", ", missing));
    }

    [Fact]
    public void The_map_has_no_cycle_each_row_uses_only_rows_above_it()
    {
        var above = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (folder, mayUse) in Allowed)
        {
            Assert.All(mayUse, used => Assert.True(above.Contains(used), $"{folder} may use {used}, which is not above it."));
            Assert.True(above.Add(folder), $"{folder} has two rows.");
        }
    }

    [Fact]
    public void The_map_is_checked_against_real_dependencies()
    {
        // A map that no longer sees edges (a loader change, a renamed root namespace) would pass everything.
        Assert.Contains(Edges(), edge => edge.From == "Polling" && edge.To == "Matching");
        Assert.Contains(Edges(), edge => edge.From == "Dispatching" && edge.To == Root);
    }

    private static IEnumerable<(IType Origin, IType Target, string From, string To)> Edges()
    {
        foreach (var type in Library.Types)
        {
            if (FolderOf(type.Namespace.FullName) is not { } from)
            {
                continue;
            }

            foreach (var dependency in type.Dependencies)
            {
                // A target the loader could not resolve (in an assembly it did not load) can have no namespace: not ours.
                if (FolderOf(dependency.Target.Namespace?.FullName) is { } to && to != from)
                {
                    yield return (dependency.Origin, dependency.Target, from, to);
                }
            }
        }
    }

    /// <summary>The folder a namespace of the library is, or null outside <c>Firestarter</c> (entry points, generated code).</summary>
    private static string? FolderOf(string? ns)
    {
        if (ns is null)
        {
            return null;
        }

        if (ns == "Firestarter")
        {
            return Root;
        }

        return ns.StartsWith("Firestarter.", StringComparison.Ordinal) ? ns["Firestarter.".Length..].Split('.')[0] : null;
    }
}
