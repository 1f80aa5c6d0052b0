using Microsoft.AspNetCore.Http.Features;

namespace Firestarter.ColdStart;

/// <summary>
/// Stands in for the request's lifetime feature while YARP forwards one cold-start attempt.
/// </summary>
/// <remarks>
/// YARP signals the end of a forward through the request's lifetime: it watches <see cref="RequestAborted"/> and,
/// when a backend fails mid-answer, aborts the request so a client is not misled by a truncated response. For a
/// buffered cold-start attempt neither should reach the supervisor's connection: the attempt's token carries the
/// Polly timeout, and an abort only ends the attempt, after which the supervisor still gets a clean answer.
/// </remarks>
internal sealed class AttemptLifetimeFeature(CancellationToken attemptToken) : IHttpRequestLifetimeFeature
{
    public CancellationToken RequestAborted { get; set; } = attemptToken;

    /// <summary>True when YARP gave up on the attempt by aborting it.</summary>
    public bool AbortRequested { get; private set; }

    public void Abort() => AbortRequested = true;
}
