using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Dispatching;

/// <summary>
/// Writes a dispatched run into a claimed poll's held response, from the dispatch's own flow.
/// </summary>
/// <remarks>
/// <para>
/// Writing from the dispatch (rather than waking the poll's handler to write) means the dispatch learns the result
/// of the write directly, with no second hop, and can answer its supervisor truthfully: <c>true</c> only when the
/// run was written to a connection that was live, otherwise the next waiting controller gets the run.
/// </para>
/// <para>
/// Before writing, the connection is checked twice over: the server's abort signal, and the kernel's TCP state
/// (<see cref="ConnectionWatch"/>), which knows of a client's close before the server has processed it. After
/// writing (once the run is in the kernel, see <see cref="FirestarterOptions.ConfirmDelivery"/>), the run is
/// offered again only on proof that the client never got it: the server had completed the connection's output, so
/// the write was dropped (the write's result says so), or the connection is dead and the client's kernel
/// acknowledged less than the whole response. Any other sign of the client leaving is ambiguous (it may have the run), and a
/// second delivery would run it twice, so the run counts as delivered and the case is counted in metrics.
/// </para>
/// <para>
/// This is safe because the poll's handler is suspended in <see cref="ParkedPoll.WaitAsync"/> and touches its
/// request again only after <see cref="ParkedPoll.Complete"/>; nothing here may use the context after that call,
/// since the server recycles it once the handler returns.
/// </para>
/// </remarks>
internal static class Handoff
{
    public static async ValueTask<HandoffOutcome> WriteRunAsync(ParkedPoll poll, ReadOnlyMemory<byte> run)
    {
        var context = poll.Context;
        var watch = ConnectionWatch.Start(context, out var before);
        HandoffOutcome result;
        try
        {
            if (context.RequestAborted.IsCancellationRequested || before.State is not (TcpState.Established or TcpState.Unknown))
            {
                result = HandoffOutcome.GoneBeforeWrite;
            }
            else
            {
                var write = await ProtocolResponses.WriteJsonAsync(context.Response, run);
                // Completed: the server had completed the connection's output (it aborts a connection under the lock
                // the write takes, before it closes the socket), so the write was dropped and nothing went out.
                result = write.IsCompleted ? HandoffOutcome.Refused : Judge(context, before, watch.Read(), run.Length);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // The server fails a write only when the response could not be started at all: nothing went out.
            result = HandoffOutcome.Refused;
        }

        poll.Complete(result is HandoffOutcome.Delivered or HandoffOutcome.DeliveredAsClientLeft ? PollOutcome.Matched : PollOutcome.Aborted);
        return result;
    }

    private static HandoffOutcome Judge(HttpContext context, TcpReading before, TcpReading after, int runLength)
    {
        if (before.HasBytesAcked && after.HasBytesAcked)
        {
            // The response is a status line and headers, then the run: longer than the run. The count can also
            // include one for the server's FIN, once it has closed.
            var acked = after.BytesAcked - before.BytesAcked;
            if (acked > (ulong)runLength && after.State == TcpState.Established)
            {
                // The client's kernel has the run, whatever the client does next.
                return HandoffOutcome.Delivered;
            }

            if (acked <= (ulong)runLength && after.State == TcpState.Closed)
            {
                // The connection is dead and less than the whole response reached the client: it cannot have the
                // run.
                return HandoffOutcome.Refused;
            }
        }

        // Torn down: the server closed its socket after the write went out, so the client left about then (and may
        // have the run).
        return context.RequestAborted.IsCancellationRequested || after.State is not (TcpState.Established or TcpState.Unknown)
            ? HandoffOutcome.DeliveredAsClientLeft
            : HandoffOutcome.Delivered;
    }
}
