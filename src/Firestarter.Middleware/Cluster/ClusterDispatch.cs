using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Firestarter.Cluster;

/// <summary>
/// Both ends of a hand-on: offering a dispatch that missed locally to the instances the directory names for its key,
/// and checking a handed-on dispatch this instance receives.
/// </summary>
/// <remarks>
/// <para>
/// The dispatch is sent with <see cref="HttpClient"/> rather than YARP's forwarder: the first instance must read and
/// judge the other's answer (try the next on a miss, stop on an unknown fate, relay only a <c>true</c>), not stream it
/// through to the supervisor. The same body bytes go, with the supervisor's <c>Authorization</c> (the other instance
/// checks the dispatch keys as for any dispatch), a hop marker (a handed-on dispatch is never handed on again) and
/// the cluster's proof.
/// </para>
/// <para>
/// Exactly once across instances: an attempt whose request may have reached the other instance and whose answer was
/// lost (timeout, connection lost, a 5xx) ends the hand-on as <see cref="HandOnOutcome.Unknown"/>: the run may sit
/// with a controller there, so no other instance is tried, and the dispatch takes the fallback, which answers
/// <c>false</c> or cold-starts. The platform's engine lets only one attempt of a run start, so a cold start beside a
/// delivered run is harmless, while a <c>true</c> for a run nobody got would lose it.
/// </para>
/// </remarks>
internal sealed partial class ClusterDispatch : IDisposable
{
    /// <summary>Marks a handed-on dispatch; its value is the sending instance's id.</summary>
    public const string HopHeader = "x-firestarter-hop";

    /// <summary>The cluster's proof that a handed-on dispatch comes from one of its instances.</summary>
    public const string ProofHeader = "x-firestarter-cluster-proof";

    /// <summary>
    /// On a handed-on dispatch's <c>false</c>: the run was handed to a controller that did not start it in time
    /// (confirmation), so it may sit with that controller and must not be offered to another instance.
    /// </summary>
    public const string HandedOutHeader = "x-firestarter-handed-out";

    /// <summary>On a dispatch's answer: the id of the other instance whose controller took the run.</summary>
    public const string ServedByHeader = "x-firestarter-served-by";

    // Removes an instance from a key's entry only if its lease is gone, in one step, so a live instance is never dropped.
    private const string DropIfDeadScript = "if redis.call('EXISTS', KEYS[2]) == 0 then return redis.call('SREM', KEYS[1], ARGV[1]) end return 0";

    private readonly ClusterConnection _connection;
    private readonly ClusterMetrics _metrics;
    private readonly ClusterTraffic _traffic;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly HttpClient _client;

    public ClusterDispatch(ClusterConnection connection, ClusterMetrics metrics, ClusterTraffic traffic, TimeProvider time, ILogger<ClusterDispatch> logger)
    {
        _connection = connection;
        _metrics = metrics;
        _traffic = traffic;
        _time = time;
        _logger = logger;
        _client = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = connection.Options.HandOnTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    private ClusterOptions Options => _connection.Options;

    /// <summary>Whether the request is a dispatch handed on by another instance.</summary>
    public static bool IsHop(HttpRequest request) => request.Headers.ContainsKey(HopHeader);

    /// <summary>
    /// Checks a handed-on dispatch's proof (the dispatch keys are checked before, as for any dispatch). Returns null
    /// when it may be matched here, else the 403 to answer.
    /// </summary>
    public Problem? CheckHop(HttpContext context)
    {
        var proof = context.Request.Headers[ProofHeader];
        if (proof.Count == 1 && _connection.IsValidProof(proof[0]))
        {
            return null;
        }

        _metrics.HopReceived(HopOutcome.Refused);
        Log.HopRefused(_logger, context.Connection.RemoteIpAddress);
        return new Problem(StatusCodes.Status403Forbidden, "not-from-cluster", "A handed-on dispatch must come from this cluster.",
            $"Header '{ProofHeader}' is missing or is not this cluster's proof (Firestarter:Cluster:Secret, or the secret shared through Redis).");
    }

    /// <summary>
    /// Answers a handed-on dispatch plainly, after matching it locally: <c>true</c> only when a controller took (and,
    /// with confirmation, started) the run; a <c>false</c> for a run handed out here but never confirmed says so.
    /// </summary>
    public async Task AnswerHopAsync(HttpContext context, bool warm, bool handedOut)
    {
        HopAnswered(context, warm);
        if (!warm && handedOut)
        {
            context.Response.Headers[HandedOutHeader] = "true";
        }

        await ProtocolResponses.WriteJsonAsync(context.Response, warm ? ProtocolResponses.WarmStarted : ProtocolResponses.NotWarmStarted);
    }

    private void HopAnswered(HttpContext context, bool warm)
    {
        _metrics.HopReceived(warm ? HopOutcome.Warm : HopOutcome.Miss);
        var sender = context.Request.Headers[HopHeader].ToString();
        if (sender.Length is > 0 and <= 64)
        {
            _traffic.For(sender).Received(warm);
        }

        Log.HopReceived(_logger, sender, warm);
    }

    /// <summary>
    /// Offers a dispatch that found no local controller to at most <see cref="ClusterOptions.MaxHandOns"/> other
    /// instances with a controller for <paramref name="key"/>, one at a time. Only <see cref="HandOnOutcome.Warm"/>
    /// may answer <c>true</c>; every other outcome takes the fallback.
    /// </summary>
    public async ValueTask<HandOnOutcome> HandOnAsync(HttpContext context, MatchKey key, ReadOnlyMemory<byte> body)
    {
        var started = _time.GetTimestamp();
        var outcome = await TryHandOnAsync(context, key, body);
        _metrics.HandedOn(outcome, _time.GetElapsedTime(started));
        return outcome;
    }

    private async ValueTask<HandOnOutcome> TryHandOnAsync(HttpContext context, MatchKey key, ReadOnlyMemory<byte> body)
    {
        if (Options.MaxHandOns == 0 || !_connection.IsConnected || _connection.Database is not { } database || _connection.Proof is not { } proof)
        {
            return HandOnOutcome.Unavailable;
        }

        var entry = _connection.Keys.Entry(key);
        RedisValue[] ids;
        try
        {
            ids = await database.SetMembersAsync(entry).WaitAsync(Options.LookupTimeout, context.RequestAborted);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or OperationCanceledException)
        {
            Log.LookupFailed(_logger, key, ex.Message);
            return HandOnOutcome.Unavailable;
        }

        var candidates = Candidates(database, entry, ids);
        if (candidates.Count == 0)
        {
            return HandOnOutcome.NoCandidate;
        }

        foreach (var member in candidates)
        {
            var result = await SendAsync(context, member, body, proof);
            _traffic.For(member.Id).HandedOn(result);
            switch (result)
            {
                case AttemptResult.Warm:
                    Log.HandedOn(_logger, key, member.Url);
                    context.Response.Headers[ServedByHeader] = member.Id;
                    return HandOnOutcome.Warm;
                case AttemptResult.Unknown:
                    Log.HandOnUnknown(_logger, key, member.Url);
                    return HandOnOutcome.Unknown;
                default:
                    Log.HandOnMissed(_logger, key, member.Url, result);
                    break;
            }
        }

        return HandOnOutcome.Miss;
    }

    // The live other instances listed under the key, in random order (so no one instance takes every hand-on), at
    // most MaxHandOns of them. Listed ids with no live member are skipped, and dropped if their lease is gone.
    private List<ClusterMember> Candidates(IDatabase database, RedisKey entry, RedisValue[] ids)
    {
        var members = _connection.Members;
        var candidates = new List<ClusterMember>(Math.Min(ids.Length, Options.MaxHandOns));
        Random.Shared.Shuffle(ids);
        foreach (var id in ids)
        {
            var text = id.ToString();
            if (text == _connection.InstanceId)
            {
                continue;
            }

            if (members.FirstOrDefault(m => m.Id == text) is { } member)
            {
                if (candidates.Count < Options.MaxHandOns)
                {
                    candidates.Add(member);
                }
            }
            else
            {
                _ = database.ScriptEvaluateAsync(DropIfDeadScript, [entry, _connection.Keys.Lease(text)], [id], CommandFlags.FireAndForget);
            }
        }

        return candidates;
    }

    private async Task<AttemptResult> SendAsync(HttpContext context, ClusterMember member, ReadOnlyMemory<byte> body, string proof)
    {
        var incoming = context.Request;
        var target = new Uri(member.Url.ToString().TrimEnd('/') + incoming.Path + incoming.QueryString);
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ReadOnlyMemoryContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(ProtocolResponses.JsonContentType);
        if (incoming.Headers.Authorization is { Count: > 0 } authorization)
        {
            request.Headers.TryAddWithoutValidation("Authorization", (IEnumerable<string?>)authorization);
        }

        request.Headers.TryAddWithoutValidation(HopHeader, _connection.InstanceId);
        request.Headers.TryAddWithoutValidation(ProofHeader, proof);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        // The other instance may hold the dispatch for a re-poll and for the run's start before it answers.
        timeout.CancelAfter(Options.HandOnTimeout + Options.AnswerHold);
        try
        {
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token);
            var status = (int)response.StatusCode;
            if (status == StatusCodes.Status200OK)
            {
                var answer = await response.Content.ReadAsByteArrayAsync(timeout.Token);
                return ReadDidWarmStart(answer) switch
                {
                    true => AttemptResult.Warm,
                    // Handed to a controller there that never confirmed: as unknown as a lost answer.
                    false when response.Headers.Contains(HandedOutHeader) => AttemptResult.Unknown,
                    false => AttemptResult.Miss,
                    null => AttemptResult.Unknown,
                };
            }

            if (status is >= 400 and < 500)
            {
                // Refused before matching (a key, the proof, the body): the run went nowhere there.
                Log.HandOnRefused(_logger, member.Url, status);
                return AttemptResult.NotReceived;
            }

            return AttemptResult.Unknown;
        }
        catch (HttpRequestException ex) when (ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            // No connection could be made: nothing was sent.
            return AttemptResult.NotReceived;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
        {
            return AttemptResult.Unknown;
        }
    }

    private static bool? ReadDidWarmStart(byte[] answer)
    {
        try
        {
            using var json = JsonDocument.Parse(answer);
            return json.RootElement.TryGetProperty("didWarmStart", out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? value.GetBoolean()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Dispose() => _client.Dispose();

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ClusterHandedOn, Level = LogLevel.Debug, Message = "A dispatch under {Key} was handed on to {Instance} and warm-started there.")]
        public static partial void HandedOn(ILogger logger, MatchKey key, Uri instance);

        [LoggerMessage(EventId = EventIds.ClusterHandOnMissed, Level = LogLevel.Debug, Message = "A dispatch under {Key} handed on to {Instance} found no controller there ({Result}).")]
        public static partial void HandOnMissed(ILogger logger, MatchKey key, Uri instance, AttemptResult result);

        [LoggerMessage(EventId = EventIds.ClusterHandOnUnknown, Level = LogLevel.Warning,
            Message = "A dispatch under {Key} handed on to {Instance} got no answer: its fate is unknown, so it takes the fallback and no other instance is tried.")]
        public static partial void HandOnUnknown(ILogger logger, MatchKey key, Uri instance);

        [LoggerMessage(EventId = EventIds.ClusterHandOnRefused, Level = LogLevel.Warning,
            Message = "Instance {Instance} refused a handed-on dispatch with {Status}: do the instances share dispatch keys and the cluster's secret?")]
        public static partial void HandOnRefused(ILogger logger, Uri instance, int status);

        [LoggerMessage(EventId = EventIds.ClusterLookupFailed, Level = LogLevel.Debug, Message = "The directory lookup for {Key} failed ({Reason}); taking the fallback.")]
        public static partial void LookupFailed(ILogger logger, MatchKey key, string reason);

        [LoggerMessage(EventId = EventIds.ClusterHopReceived, Level = LogLevel.Debug, Message = "A dispatch handed on by instance {Sender} was answered {Warm}.")]
        public static partial void HopReceived(ILogger logger, string sender, bool warm);

        [LoggerMessage(EventId = EventIds.ClusterHopRefused, Level = LogLevel.Warning,
            Message = "A handed-on dispatch from {RemoteAddress} was refused with 403: no valid cluster proof.")]
        public static partial void HopRefused(ILogger logger, IPAddress? remoteAddress);
    }
}
