using System.Net.Http;
using System.Net.Sockets;
using Firestarter.ColdStart;
using Yarp.ReverseProxy.Forwarder;

namespace Firestarter.Tests.ColdStart;

public class ForwardAttemptTests
{
    private static ForwardAttempt Answered(int status) => new(status, ForwarderError.None, null, new MemoryStream());

    private static ForwardAttempt Failed(ForwarderError error, Exception? exception = null) => new(0, error, exception, null);

    private static HttpRequestException RequestError(HttpRequestError error, Exception? inner = null) =>
        new(error, "forward failed", inner);

    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(204)]
    [InlineData(299)]
    public void A_2xx_answer_succeeded_and_is_no_backend_failure(int status)
    {
        var attempt = Answered(status);

        Assert.True(attempt.Succeeded);
        Assert.False(attempt.IsBackendFailure);
        Assert.False(attempt.NeverSent);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(199)]
    [InlineData(301)]
    [InlineData(400)]
    [InlineData(404)]
    [InlineData(409)]
    [InlineData(499)]
    public void A_non_2xx_answer_below_500_did_not_succeed_but_is_no_backend_failure(int status)
    {
        var attempt = Answered(status);

        Assert.False(attempt.Succeeded);
        Assert.False(attempt.IsBackendFailure);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(599)]
    public void A_5xx_answer_is_a_backend_failure(int status)
    {
        var attempt = Answered(status);

        Assert.False(attempt.Succeeded);
        Assert.True(attempt.IsBackendFailure);
        Assert.False(attempt.NeverSent);
    }

    [Theory]
    [InlineData(ForwarderError.Request)]
    [InlineData(ForwarderError.RequestTimedOut)]
    [InlineData(ForwarderError.RequestBodyDestination)]
    [InlineData(ForwarderError.ResponseHeaders)]
    [InlineData(ForwarderError.ResponseBodyDestination)]
    [InlineData(ForwarderError.NoAvailableDestinations)]
    public void Any_forwarding_error_is_a_backend_failure_and_not_a_success(ForwarderError error)
    {
        var attempt = Failed(error, new IOException("x"));

        Assert.False(attempt.Succeeded);
        Assert.True(attempt.IsBackendFailure);
    }

    [Fact]
    public void A_forwarding_error_is_not_a_success_even_with_a_2xx_status()
    {
        var attempt = new ForwardAttempt(200, ForwarderError.ResponseBodyDestination, null, new MemoryStream());

        Assert.False(attempt.Succeeded);
        Assert.True(attempt.IsBackendFailure);
    }

    [Theory]
    [InlineData(HttpRequestError.ConnectionError)]
    [InlineData(HttpRequestError.NameResolutionError)]
    public void A_request_error_from_a_connection_that_was_never_made_was_never_sent(HttpRequestError error)
    {
        Assert.True(Failed(ForwarderError.Request, RequestError(error)).NeverSent);
    }

    [Theory]
    [InlineData(HttpRequestError.Unknown)]
    [InlineData(HttpRequestError.SecureConnectionError)]
    [InlineData(HttpRequestError.ResponseEnded)]
    [InlineData(HttpRequestError.InvalidResponse)]
    [InlineData(HttpRequestError.HttpProtocolError)]
    [InlineData(HttpRequestError.ProxyTunnelError)]
    public void A_request_error_that_may_have_reached_the_backend_was_not_never_sent(HttpRequestError error)
    {
        Assert.False(Failed(ForwarderError.Request, RequestError(error)).NeverSent);
    }

    [Fact]
    public void The_connection_error_is_found_anywhere_in_the_inner_exception_chain()
    {
        var deep = new InvalidOperationException("outer", new IOException("middle", RequestError(HttpRequestError.ConnectionError, new SocketException(111))));

        Assert.True(Failed(ForwarderError.Request, deep).NeverSent);
        Assert.True(Failed(ForwarderError.Request, new IOException("wrap", RequestError(HttpRequestError.NameResolutionError))).NeverSent);
    }

    [Fact]
    public void The_first_request_exception_in_the_chain_decides()
    {
        // Conservative: an outer error that does not say "never connected" wins over an inner one that does.
        var nested = RequestError(HttpRequestError.Unknown, RequestError(HttpRequestError.ConnectionError));

        Assert.False(Failed(ForwarderError.Request, nested).NeverSent);
    }

    [Theory]
    [InlineData(ForwarderError.RequestTimedOut)]
    [InlineData(ForwarderError.RequestBodyDestination)]
    [InlineData(ForwarderError.ResponseHeaders)]
    [InlineData(ForwarderError.NoAvailableDestinations)]
    [InlineData(ForwarderError.None)]
    public void Only_a_request_error_can_be_never_sent(ForwarderError error)
    {
        Assert.False(new ForwardAttempt(0, error, RequestError(HttpRequestError.ConnectionError), null).NeverSent);
    }

    [Fact]
    public void A_request_error_without_a_request_exception_was_not_never_sent()
    {
        Assert.False(Failed(ForwarderError.Request).NeverSent);
        Assert.False(Failed(ForwarderError.Request, new IOException("x", new SocketException(111))).NeverSent);
        Assert.False(Failed(ForwarderError.Request, new TaskCanceledException()).NeverSent);
    }

    [Fact]
    public void Describe_says_what_the_backend_answered_or_how_the_forward_failed()
    {
        Assert.Equal("backend answered 503", Answered(503).Describe());
        Assert.Equal("RequestTimedOut", Failed(ForwarderError.RequestTimedOut).Describe());
        Assert.Equal(
            "Request: Connection refused",
            Failed(ForwarderError.Request, new HttpRequestException("outer", new IOException("Connection refused"))).Describe());
    }
}
