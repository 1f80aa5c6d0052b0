using System.Net.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Firestarter.ColdStart;

/// <summary>The result of one attempt at forwarding a dispatch to the cold-start cluster.</summary>
/// <param name="Status">The backend's status code, or 0 when no response arrived.</param>
/// <param name="Error">YARP's forwarding error, <see cref="ForwarderError.None"/> when the backend answered.</param>
/// <param name="Exception">The exception behind <paramref name="Error"/>, if any.</param>
/// <param name="Response">The backend's buffered answer when it answered.</param>
internal sealed record ForwardAttempt(int Status, ForwarderError Error, Exception? Exception, MemoryStream? Response)
{
    /// <summary>The backend answered 2xx: relay its answer.</summary>
    public bool Succeeded => Error == ForwarderError.None && Status is >= 200 and < 300;

    /// <summary>
    /// The attempt failed in a way that counts against the backend's health (the circuit breaker's failures):
    /// no answer, or a 5xx. A 4xx is the backend refusing this dispatch, not the backend failing.
    /// </summary>
    public bool IsBackendFailure => Error != ForwarderError.None || Status >= 500;

    /// <summary>
    /// The request provably never reached the backend (no connection could be made), so repeating it cannot run
    /// the dispatch twice. Only such attempts are retried.
    /// </summary>
    public bool NeverSent =>
        Error == ForwarderError.Request && FindHttpRequestError(Exception) is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError;

    public string Describe() => Error == ForwarderError.None
        ? $"backend answered {Status}"
        : $"{Error}{(Exception is null ? "" : $": {Exception.GetBaseException().Message}")}";

    private static HttpRequestError? FindHttpRequestError(Exception? exception)
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is HttpRequestException httpRequestException)
            {
                return httpRequestException.HttpRequestError;
            }
        }

        return null;
    }
}
