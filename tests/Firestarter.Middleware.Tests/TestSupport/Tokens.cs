using System.Buffers.Text;
using System.Text;

namespace Firestarter.Tests.TestSupport;

/// <summary>Builds JWT-shaped deployment tokens; only the payload matters to the broker.</summary>
internal static class Tokens
{
    private const string Header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
    private const string Signature = "c2lnbmF0dXJl";

    /// <summary>A token whose payload is <paramref name="payloadJson"/>, base64url without padding.</summary>
    public static string WithPayload(string payloadJson) => WithPayloadBytes(Encoding.UTF8.GetBytes(payloadJson));

    public static string WithPayloadBytes(byte[] payload) => WithRawPayload(Base64Url.EncodeToString(payload));

    /// <summary>A token with the given payload segment exactly as written.</summary>
    public static string WithRawPayload(string payloadSegment) => $"{Header}.{payloadSegment}.{Signature}";

    /// <summary>A token whose payload carries <c>deployment</c> = <paramref name="deployment"/> among other claims.</summary>
    public static string ForDeployment(string deployment) =>
        WithPayload($$"""{"sub":"controller","deployment":"{{deployment}}","iat":1700000000}""");
}
