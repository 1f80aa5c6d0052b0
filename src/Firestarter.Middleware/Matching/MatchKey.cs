using System.Globalization;

namespace Firestarter.Matching;

/// <summary>
/// The four fields a dispatched run and a waiting controller must share: deployment, version, CPU and memory.
/// </summary>
/// <remarks>
/// CPU and memory are compared as numbers, not as text: the supervisor sends JSON numbers (<c>1</c>, <c>0.25</c>)
/// while controllers send them as JavaScript prints them in headers (<c>"1"</c>, <c>"0.25"</c>), and a user may
/// well write <c>"1.0"</c>. Parsing both sides to the same <see cref="double"/> makes all of those one key.
/// </remarks>
internal readonly struct MatchKey : IEquatable<MatchKey>
{
    public MatchKey(string deployment, string version, double cpu, double memory)
    {
        Deployment = deployment;
        Version = version;
        // -0 and +0 compare equal but hash differently; fold them so equal keys always hash alike.
        Cpu = cpu == 0 ? 0 : cpu;
        Memory = memory == 0 ? 0 : memory;
    }

    public string Deployment { get; }

    public string Version { get; }

    public double Cpu { get; }

    public double Memory { get; }

    /// <summary>
    /// Parses a machine size (CPU or memory) as a controller sends it in a header.
    /// Accepts any decimal or exponent notation of a finite, non-negative number.
    /// </summary>
    public static bool TryParseMachineSize(ReadOnlySpan<char> text, out double value)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && IsValidMachineSize(value))
        {
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>A machine size must be a finite number that is not negative.</summary>
    public static bool IsValidMachineSize(double value) => double.IsFinite(value) && value >= 0;

    public bool Equals(MatchKey other) =>
        // Sizes first: they are the cheapest to compare and differ often between keys of one deployment.
        Cpu.Equals(other.Cpu)
        && Memory.Equals(other.Memory)
        && string.Equals(Version, other.Version, StringComparison.Ordinal)
        && string.Equals(Deployment, other.Deployment, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is MatchKey other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Deployment, Version, Cpu, Memory);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Deployment}/{Version} cpu={Cpu} memory={Memory}");

    public static bool operator ==(MatchKey left, MatchKey right) => left.Equals(right);

    public static bool operator !=(MatchKey left, MatchKey right) => !left.Equals(right);
}
