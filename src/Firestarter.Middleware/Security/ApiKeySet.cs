using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace Firestarter.Security;

/// <summary>
/// A set of API keys a presented key is checked against, in time that says nothing about the key: neither how much
/// of it was right, nor its length, nor which configured key it matched.
/// </summary>
/// <remarks>
/// Keys are kept and compared as SHA-256 digests with <see cref="CryptographicOperations.FixedTimeEquals"/>: digests
/// all have one length (comparing the keys themselves would return early on a length mismatch), and every key is
/// compared, with no early exit. Used for the dispatch keys and the admin key alike.
/// </remarks>
internal sealed class ApiKeySet
{
    private const int MaxStackKeyBytes = 512;

    private readonly byte[][] _digests;

    public ApiKeySet(IEnumerable<string> keys) =>
        _digests = [.. keys.Select(key => SHA256.HashData(Encoding.UTF8.GetBytes(key)))];

    /// <summary>True when no key is configured.</summary>
    public bool IsEmpty => _digests.Length == 0;

    /// <summary>Whether <paramref name="presented"/> is one of the keys (false for an empty set).</summary>
    public bool Contains(ReadOnlySpan<char> presented)
    {
        var length = Encoding.UTF8.GetMaxByteCount(presented.Length);
        byte[]? rented = null;
        var bytes = length <= MaxStackKeyBytes ? stackalloc byte[MaxStackKeyBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..Encoding.UTF8.GetBytes(presented, bytes)], digest);
            var matched = false;
            foreach (var key in _digests)
            {
                // No early exit: every key is compared, whichever matches.
                matched |= CryptographicOperations.FixedTimeEquals(digest, key);
            }

            return matched;
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
