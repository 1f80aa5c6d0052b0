using BenchmarkDotNet.Attributes;
using Firestarter.Matching;
using Firestarter.Protocol;
using Firestarter.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;

namespace Firestarter.Benchmarks;

/// <summary>Reading the match key from a dispatch body and from a poll's headers.</summary>
[MemoryDiagnoser]
public class ProtocolBenchmarks
{
    private readonly DeploymentIdentityResolver _identities = new(new DeploymentTokenOptions(), TimeProvider.System, NullLogger.Instance);
    private readonly string _token = Samples.DeploymentToken(Samples.Deployment);
    private HeaderDictionary _bareHeaders = null!;
    private HeaderDictionary _tokenHeaders = null!;

    [GlobalSetup]
    public void Setup()
    {
        _bareHeaders = Samples.PollHeaders(Samples.Deployment);
        _tokenHeaders = Samples.PollHeaders(_token);
        // The resolver caches decoded tokens: measure the hot path, where the token was seen before.
        _identities.TryResolve(_token, out _, out _);
    }

    /// <summary>DispatchMessageReader.TryRead over dispatch.lua's body (about 1 KB): the four fields and the message's range.</summary>
    [Benchmark]
    public string Dispatch_body_fields()
    {
        DispatchMessageReader.TryRead(Samples.DispatchBody, 64, out var message, out _);
        return message.Key.Deployment;
    }

    /// <summary>PollHeadersReader.TryRead and identity resolution, as the poll handler does them; deployment sent as a bare id.</summary>
    [Benchmark]
    public string Poll_headers_bare_id() => ReadKey(_bareHeaders).Deployment;

    /// <summary>PollHeadersReader.TryRead and identity resolution; deployment sent as a (cached) deployment token.</summary>
    [Benchmark]
    public string Poll_headers_token() => ReadKey(_tokenHeaders).Deployment;

    private MatchKey ReadKey(HeaderDictionary headers)
    {
        PollHeadersReader.TryRead(headers, out var poll);
        _identities.TryResolve(poll.DeploymentId, out var deployment, out _);
        return poll.KeyFor(deployment);
    }

    /// <summary>DeploymentIdentityResolver.TryResolve of a bare id (the token check only).</summary>
    [Benchmark]
    public string Resolve_bare_id()
    {
        _identities.TryResolve(Samples.Deployment, out var deployment, out _);
        return deployment;
    }

    /// <summary>DeploymentIdentityResolver.TryResolve of a token seen before (cache hit).</summary>
    [Benchmark]
    public string Resolve_token_cached()
    {
        _identities.TryResolve(_token, out var deployment, out _);
        return deployment;
    }

    /// <summary>DeploymentToken.TryReadDeploymentClaim: what a token's first poll (a cache miss) costs.</summary>
    [Benchmark]
    public string Decode_token_uncached()
    {
        DeploymentToken.TryReadDeploymentClaim(_token, out var deployment, out _);
        return deployment;
    }
}
