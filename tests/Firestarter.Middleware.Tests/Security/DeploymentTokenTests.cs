using System.Text;
using Firestarter.Security;
using Firestarter.Tests.TestSupport;

namespace Firestarter.Tests.Security;

public class DeploymentTokenTests
{
    [Theory]
    [InlineData("a.b.c")]
    [InlineData("eyJhbGciOiJIUzI1NiJ9.eyJkZXBsb3ltZW50IjoieCJ9.c2ln")]
    [InlineData("x.y.z-_")]
    [InlineData("aa.bb.cc")]
    public void LooksLikeToken_is_true_for_three_non_empty_dot_separated_parts(string value) =>
        Assert.True(DeploymentToken.LooksLikeToken(value));

    [Theory]
    [InlineData("")]
    [InlineData("deployment_abc")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("...")]
    [InlineData("a.")]
    [InlineData(".a")]
    [InlineData("a.b")]
    [InlineData("a..c")]
    [InlineData(".b.c")]
    [InlineData("a.b.")]
    [InlineData("a.b.c.d")]
    [InlineData("a.b.c.")]
    [InlineData("..c")]
    [InlineData("a..")]
    public void LooksLikeToken_is_false_for_anything_else(string value) =>
        Assert.False(DeploymentToken.LooksLikeToken(value));

    [Theory]
    [InlineData("""{"deployment":"deployment_abc"}""")]
    [InlineData("""{"sub":"x","deployment":"deployment_abc","exp":1700000000}""")]
    [InlineData("""{"nested":{"deployment":"wrong","list":[{"deployment":"wrong"}]},"deployment":"deployment_abc"}""")]
    [InlineData("""{"list":["deployment",{"deployment":"wrong"}],"deployment":"deployment_abc","after":{"x":[1,2]}}""")]
    [InlineData(""" { "deployment" : "deployment_abc" } """)]
    [InlineData("""{"\u0064eployment":"deployment_\u0061bc"}""")]
    public void TryReadDeploymentClaim_reads_the_top_level_deployment_claim(string payload)
    {
        Assert.True(DeploymentToken.TryReadDeploymentClaim(Tokens.WithPayload(payload), out var deployment, out var problem), problem);

        Assert.Equal("deployment_abc", deployment);
        Assert.Null(problem);
    }

    [Theory]
    [InlineData("dép-ünïcødé")]
    [InlineData("部署-🚀")]
    [InlineData("quote\"back\\slash")]
    public void TryReadDeploymentClaim_decodes_unicode_and_escapes_in_the_claim(string expected)
    {
        var escaped = System.Text.Json.JsonSerializer.Serialize(expected);
        var token = Tokens.WithPayload($$"""{"deployment":{{escaped}}}""");

        Assert.True(DeploymentToken.TryReadDeploymentClaim(token, out var deployment, out _));
        Assert.Equal(expected, deployment);

        if (!expected.Contains('"', StringComparison.Ordinal) && !expected.Contains('\\', StringComparison.Ordinal))
        {
            // The same claim written as raw UTF-8 rather than escaped.
            var raw = Tokens.WithPayload($$"""{"deployment":"{{expected}}"}""");
            Assert.True(DeploymentToken.TryReadDeploymentClaim(raw, out var fromRaw, out _));
            Assert.Equal(expected, fromRaw);
        }
    }

    [Fact]
    public void TryReadDeploymentClaim_accepts_the_payload_with_or_without_base64_padding()
    {
        // 20 bytes of JSON: base64 needs one padding character.
        var json = """{"deployment":"ab"}""" + " ";
        Assert.Equal(20, Encoding.UTF8.GetByteCount(json));
        var padded = Convert.ToBase64String(Encoding.UTF8.GetBytes(json)).Replace('+', '-').Replace('/', '_');
        Assert.EndsWith("=", padded, StringComparison.Ordinal);
        var unpadded = padded.TrimEnd('=');

        Assert.True(DeploymentToken.TryReadDeploymentClaim(Tokens.WithRawPayload(padded), out var fromPadded, out var problem), problem);
        Assert.True(DeploymentToken.TryReadDeploymentClaim(Tokens.WithRawPayload(unpadded), out var fromUnpadded, out problem), problem);
        Assert.Equal("ab", fromPadded);
        Assert.Equal("ab", fromUnpadded);
    }

    [Fact]
    public void TryReadDeploymentClaim_decodes_the_url_safe_alphabet()
    {
        // Bytes chosen so that the base64url text contains both '-' and '_' (standard base64's '+' and '/').
        var payload = Encoding.UTF8.GetBytes("""{"deployment":"d","x":"~~~???>>>"}""");
        var segment = System.Buffers.Text.Base64Url.EncodeToString(payload);
        Assert.True(segment.Contains('-', StringComparison.Ordinal) || segment.Contains('_', StringComparison.Ordinal), segment);

        Assert.True(DeploymentToken.TryReadDeploymentClaim(Tokens.WithRawPayload(segment), out var deployment, out var problem), problem);
        Assert.Equal("d", deployment);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"sub":"x"}""")]
    [InlineData("""{"Deployment":"case differs"}""")]
    [InlineData("""{"deployments":"longer name"}""")]
    [InlineData("""{"nested":{"deployment":"not top level"}}""")]
    [InlineData("""{"list":[{"deployment":"in an array"}]}""")]
    public void TryReadDeploymentClaim_fails_when_there_is_no_top_level_claim(string payload)
    {
        Assert.False(DeploymentToken.TryReadDeploymentClaim(Tokens.WithPayload(payload), out var deployment, out var problem));

        Assert.Equal("The deployment token has no 'deployment' claim.", problem);
        Assert.Equal(string.Empty, deployment);
    }

    [Theory]
    [InlineData("""{"deployment":""}""")]
    [InlineData("""{"deployment":123}""")]
    [InlineData("""{"deployment":null}""")]
    [InlineData("""{"deployment":true}""")]
    [InlineData("""{"deployment":{"id":"x"}}""")]
    [InlineData("""{"deployment":["x"]}""")]
    public void TryReadDeploymentClaim_fails_when_the_claim_is_not_a_non_empty_string(string payload)
    {
        Assert.False(DeploymentToken.TryReadDeploymentClaim(Tokens.WithPayload(payload), out _, out var problem));

        Assert.Equal("The deployment token's 'deployment' claim must be a non-empty string.", problem);
    }

    [Theory]
    [InlineData("not json at all")]
    [InlineData("{")]
    [InlineData("""{"deployment":"x""")]
    [InlineData("""{"deployment":""")]
    [InlineData("""{"a":1""")]
    [InlineData("{'deployment':'x'}")]
    [InlineData("")]
    [InlineData("   ")]
    public void TryReadDeploymentClaim_fails_when_the_payload_is_not_json(string payload)
    {
        Assert.False(DeploymentToken.TryReadDeploymentClaim(Tokens.WithPayload(payload), out _, out var problem));

        Assert.Equal("The deployment token's payload is not valid JSON.", problem);
    }

    [Theory]
    [InlineData("""["deployment","x"]""")]
    [InlineData("\"deployment\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void TryReadDeploymentClaim_fails_when_the_payload_is_not_an_object(string payload)
    {
        Assert.False(DeploymentToken.TryReadDeploymentClaim(Tokens.WithPayload(payload), out _, out var problem));

        Assert.Equal("The deployment token's payload is not a JSON object.", problem);
    }

    [Theory]
    [InlineData("!!!!")]
    [InlineData("ab$d")]
    [InlineData("a")]
    [InlineData("abcde")]
    [InlineData("+/+/")]
    [InlineData("eyJ9=x")]
    public void TryReadDeploymentClaim_fails_when_the_payload_is_not_base64url(string segment)
    {
        Assert.False(DeploymentToken.TryReadDeploymentClaim(Tokens.WithRawPayload(segment), out _, out var problem));

        Assert.Equal("The deployment token's payload is not base64url.", problem);
    }

    [Fact]
    public void TryReadDeploymentClaim_refuses_a_payload_over_8_KiB_without_decoding_it()
    {
        var big = Tokens.WithPayload($$"""{"deployment":"d","pad":"{{new string('x', 7000)}}"}""");
        Assert.True(big.Split('.')[1].Length > 8 * 1024);

        Assert.False(DeploymentToken.TryReadDeploymentClaim(big, out _, out var problem));
        Assert.Equal("The deployment token's payload is too large.", problem);
    }

    [Fact]
    public void TryReadDeploymentClaim_reads_a_payload_just_under_the_limit()
    {
        var json = $$"""{"deployment":"d","pad":"{{new string('x', 6000)}}"}""";
        var token = Tokens.WithPayload(json);
        Assert.True(token.Split('.')[1].Length <= 8 * 1024);

        Assert.True(DeploymentToken.TryReadDeploymentClaim(token, out var deployment, out var problem), problem);
        Assert.Equal("d", deployment);
    }

    [Fact]
    public void TryReadDeploymentClaim_fails_cleanly_for_a_claim_with_a_lone_surrogate_escape()
    {
        var token = Tokens.WithPayload("""{"deployment":"\uD800"}""");

        Assert.False(DeploymentToken.TryReadDeploymentClaim(token, out _, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void TryReadDeploymentClaim_fails_cleanly_for_a_claim_that_is_not_utf8()
    {
        byte[] payload = [.. """{"deployment":"d"""u8, 0xFF, .. "\"}"u8];
        var token = Tokens.WithPayloadBytes(payload);

        Assert.False(DeploymentToken.TryReadDeploymentClaim(token, out _, out var problem));
        Assert.NotNull(problem);
    }

    [Fact]
    public void A_payload_property_name_escaping_a_lone_surrogate_is_refused_not_thrown()
    {
        Assert.False(DeploymentToken.TryReadDeploymentClaim(Tokens.WithPayload("""{"deploy\ud800ment":1,"deployment":"d"}"""), out _, out var problem));
        Assert.Contains("not valid UTF-16", problem, StringComparison.Ordinal);
    }
}
