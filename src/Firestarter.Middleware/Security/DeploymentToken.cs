using System.Buffers;
using System.Buffers.Text;
using System.Text.Json;

namespace Firestarter.Security;

/// <summary>
/// Recognises a deployment token in <c>x-trigger-deployment-id</c> and reads the deployment it names.
/// </summary>
/// <remarks>
/// Trigger.dev's supervisor can stamp controllers with a JWT instead of a bare deployment id. Its payload's
/// <c>deployment</c> claim is the deployment's friendly id, which is what dispatched runs carry, so that claim is
/// the matching identity. This type only decodes; whether the token is genuine is the caller's business.
/// </remarks>
internal static class DeploymentToken
{
    private const int MaxPayloadChars = 8 * 1024;

    /// <summary>True when the value has the shape of a JWT: three non-empty parts separated by dots.</summary>
    public static bool LooksLikeToken(ReadOnlySpan<char> value)
    {
        var first = value.IndexOf('.');
        if (first <= 0)
        {
            return false;
        }

        var rest = value[(first + 1)..];
        var second = rest.IndexOf('.');
        return second > 0 && second < rest.Length - 1 && rest[(second + 1)..].IndexOf('.') < 0;
    }

    /// <summary>
    /// Reads the <c>deployment</c> claim of a token-shaped value. On failure, <paramref name="problem"/> says why.
    /// </summary>
    public static bool TryReadDeploymentClaim(ReadOnlySpan<char> token, out string deployment, out string? problem)
    {
        deployment = string.Empty;
        var first = token.IndexOf('.');
        var payloadChars = token[(first + 1)..];
        payloadChars = payloadChars[..payloadChars.IndexOf('.')];
        if (payloadChars.Length > MaxPayloadChars)
        {
            problem = "The deployment token's payload is too large.";
            return false;
        }

        var rented = ArrayPool<byte>.Shared.Rent(Base64Url.GetMaxDecodedLength(payloadChars.Length));
        try
        {
            if (Base64Url.DecodeFromChars(payloadChars, rented, out _, out var written) != OperationStatus.Done)
            {
                problem = "The deployment token's payload is not base64url.";
                return false;
            }

            return TryReadClaim(rented.AsSpan(0, written), out deployment, out problem);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static bool TryReadClaim(ReadOnlySpan<byte> json, out string deployment, out string? problem)
    {
        deployment = string.Empty;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 16 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                problem = "The deployment token's payload is not a JSON object.";
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (!reader.ValueTextEquals("deployment"))
                {
                    reader.Read();
                    reader.Skip();
                    continue;
                }

                reader.Read();
                if (reader.TokenType != JsonTokenType.String || reader.ValueSpan.IsEmpty)
                {
                    problem = "The deployment token's 'deployment' claim must be a non-empty string.";
                    return false;
                }

                deployment = reader.GetString()!;
                problem = null;
                return true;
            }

            problem = "The deployment token has no 'deployment' claim.";
            return false;
        }
        catch (JsonException)
        {
            problem = "The deployment token's payload is not valid JSON.";
            return false;
        }
        catch (InvalidOperationException)
        {
            // Text the reader accepted as JSON but cannot decode (invalid UTF-8, an escaped lone surrogate such as
            // "\ud800"), met in the claim's value or while comparing a property name, throws rather than failing.
            problem = "The deployment token's payload has text that is not valid UTF-16 text (invalid UTF-8 or a lone surrogate).";
            return false;
        }
    }
}
