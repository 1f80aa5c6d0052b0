using Firestarter.Matching;
using Microsoft.AspNetCore.Http;

namespace Firestarter.Dispatching;

/// <summary>How writing a run into a claimed poll went.</summary>
internal enum HandoffResult
{
    /// <summary>The run was flushed to a connection that was still live: the dispatch may answer <c>true</c>.</summary>
    Delivered,

    /// <summary>The controller had already left when the poll was claimed; nothing was written.</summary>
    GoneBeforeWrite,

    /// <summary>The controller left while the run was being written, or the write failed: treat as not delivered.</summary>
    GoneAfterWrite,
}

/// <summary>
/// Writes a dispatched run into a claimed poll's held response, from the dispatch's own flow.
/// </summary>
/// <remarks>
/// <para>
/// Writing from the dispatch (rather than waking the poll's handler to write) means the dispatch learns the result
/// of the write directly, with no second hop, and can answer its supervisor truthfully: <c>true</c> only when the
/// run was flushed to a connection that was live, otherwise the next waiting controller gets the run.
/// </para>
/// <para>
/// This is safe because the poll's handler is suspended in <see cref="ParkedPoll.WaitAsync"/> and touches its
/// request again only after <see cref="ParkedPoll.Complete"/>; nothing here may use the context after that call,
/// since the server recycles it once the handler returns.
/// </para>
/// </remarks>
internal static class Handoff
{
    public static async ValueTask<HandoffResult> WriteRunAsync(ParkedPoll poll, ReadOnlyMemory<byte> run)
    {
        var context = poll.Context!;

        // The client may have left after it was claimed, or before the server noticed: then nothing is written and
        // the run goes to the next controller.
        if (IsGone(context))
        {
            poll.Complete(PollOutcome.Gone);
            return HandoffResult.GoneBeforeWrite;
        }

        bool delivered;
        try
        {
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = Protocol.ProtocolResponses.JsonContentType;
            response.ContentLength = run.Length;
            var flush = await response.BodyWriter.WriteAsync(run);

            // The server does not fail writes to a connection that has gone; it drops them. So the connection is
            // checked again once the write has completed (with the transport's send buffer at one byte, that is
            // once the run is in the kernel): a client that left meanwhile did not get the run.
            delivered = !flush.IsCanceled && !IsGone(context);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            delivered = false;
        }

        poll.Complete(delivered ? PollOutcome.Delivered : PollOutcome.Gone);
        return delivered ? HandoffResult.Delivered : HandoffResult.GoneAfterWrite;
    }

    private static bool IsGone(HttpContext context) =>
        context.RequestAborted.IsCancellationRequested || ConnectionProbe.Check(context) == ConnectionState.Closing;
}
