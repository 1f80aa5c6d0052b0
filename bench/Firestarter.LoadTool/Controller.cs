using System.Buffers.Text;
using System.Net;
using System.Text;

namespace Firestarter.LoadTool;

/// <summary>Counters of one controller; each is written by its controller only and summed at the end.</summary>
internal sealed class ControllerStats
{
    public long Polls;
    public long Delivered;
    public long NoContent;
    public long Aborted;
    public long AbortedWithResponsePending;
    public long StoppedWithResponsePending;
    public long TimedOut;
    public long HttpErrors;
    public long TransportErrors;
    public long BadBodies;
    public long Misrouted;
    public long Foreign;
    public long Unknown;
    public string? FirstError;

    /// <summary>Run ids received that the ledger does not track (another process's runs), when a received log is kept.</summary>
    public List<string>? ForeignIds;

    /// <summary>Which of <see cref="ForeignIds"/> were misrouted.</summary>
    public List<bool>? ForeignMisrouted;
}

/// <summary>Settings shared by every controller of a run.</summary>
internal sealed class ControllerPlan
{
    public required HttpMessageInvoker Client { get; init; }

    public required IReadOnlyList<Uri> Targets { get; init; }

    public required MatchKey[] Keys { get; init; }

    /// <summary>Controller i polls key i mod K at target (i mod K) mod T: all of a key's controllers on one target.</summary>
    public bool SparseKeys { get; init; }

    /// <summary>Null when this process dispatches nothing (every received run then belongs to another process).</summary>
    public RunLedger? Ledger { get; init; }

    /// <summary>UTF-8 of this process's run-id prefix, to map a received id back to its ledger number.</summary>
    public byte[] RunIdPrefix { get; init; } = [];

    public required double AbortRate { get; init; }

    public required int AbortMaxDelayMs { get; init; }

    public required TimeSpan PollTimeout { get; init; }

    public required bool KeepReceivedIds { get; init; }

    public required ulong Seed { get; init; }

    public required Action OnFirstPollWritten { get; init; }
}

/// <summary>
/// One run controller: a loop of <c>GET /warm-start</c> long polls for one match key. Each poll is either answered
/// (200 with a run, or 204), or abandoned by the controller: after a random short delay (AbortRate), or after the
/// poll timeout; abandoning cancels the request, which closes its connection, and the controller polls again.
/// </summary>
internal sealed class Controller(ControllerPlan plan, int index)
{
    private static readonly TimeSpan ErrorBackoff = TimeSpan.FromMilliseconds(100);

    // Targets round-robin, and keys round-robin within each target, so every target sees every key.
    private readonly MatchKey _key = plan.Keys[plan.SparseKeys ? index % plan.Keys.Length : index / plan.Targets.Count % plan.Keys.Length];
    private readonly Uri _uri = new(plan.Targets[(plan.SparseKeys ? index % plan.Keys.Length : index) % plan.Targets.Count], "warm-start");
    private readonly string _controllerId = "loadtool-controller-" + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
    private byte[] _buffer = new byte[2048];
    private ulong _random = (plan.Seed + ((ulong)index * 0x9E3779B97F4A7C15UL)) | 1;

    public ControllerStats Stats { get; } = new();

    public async Task RunAsync(CancellationToken stop)
    {
        // Let this controller's connections find its slot (see TrackedConnectionStream).
        var slot = new PollConnectionSlot { FirstWrite = plan.OnFirstPollWritten };
        PollConnectionSlot.Current = slot;
        await Task.Yield();

        var pollCancellation = CancellationTokenSource.CreateLinkedTokenSource(stop);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var abandon = plan.AbortRate > 0 && NextDouble() < plan.AbortRate;
                var giveUpAfter = abandon
                    ? TimeSpan.FromMilliseconds(plan.AbortMaxDelayMs * NextDouble())
                    : plan.PollTimeout;
                Stats.Polls++;
                slot.BeginPoll();
                pollCancellation.CancelAfter(giveUpAfter);

                HttpResponseMessage response;
                using (var request = CreatePoll())
                {
                    try
                    {
                        response = await plan.Client.SendAsync(request, pollCancellation.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        var pending = slot.Connection?.ClosedWithResponsePending == true;
                        if (stop.IsCancellationRequested)
                        {
                            Stats.StoppedWithResponsePending += pending ? 1 : 0;
                            break;
                        }

                        if (abandon)
                        {
                            Stats.Aborted++;
                            Stats.AbortedWithResponsePending += pending ? 1 : 0;
                        }
                        else
                        {
                            Stats.TimedOut++;
                        }

                        pollCancellation = Renew(pollCancellation, stop);
                        continue;
                    }
                    catch (HttpRequestException ex)
                    {
                        Stats.TransportErrors++;
                        Stats.FirstError ??= $"GET {_uri}: {ex.Message}";
                        pollCancellation = Renew(pollCancellation, stop);
                        await Backoff(stop).ConfigureAwait(false);
                        continue;
                    }
                }

                // The answer's headers are here: from now on only the end of the run may interrupt it.
                pollCancellation = Renew(pollCancellation, stop);
                using (response)
                {
                    if (response.StatusCode == HttpStatusCode.NoContent)
                    {
                        Stats.NoContent++;
                        continue;
                    }

                    int length;
                    try
                    {
                        (_buffer, length) = await BodyReader.ReadAsync(response, _buffer, stop).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break;
                    }
                    catch (Exception ex) when (ex is HttpRequestException or IOException)
                    {
                        Stats.TransportErrors++;
                        Stats.FirstError ??= $"GET {_uri} (reading the answer): {ex.Message}";
                        continue;
                    }

                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Stats.HttpErrors++;
                        Stats.FirstError ??= $"GET {_uri}: HTTP {(int)response.StatusCode} {Encoding.UTF8.GetString(_buffer, 0, Math.Min(length, 200))}";
                        await Backoff(stop).ConfigureAwait(false);
                        continue;
                    }

                    Receive(_buffer.AsSpan(0, length));
                }
            }
        }
        finally
        {
            pollCancellation.Dispose();
        }
    }

    private static CancellationTokenSource Renew(CancellationTokenSource current, CancellationToken stop)
    {
        if (current.TryReset())
        {
            return current;
        }

        current.Dispose();
        return CancellationTokenSource.CreateLinkedTokenSource(stop);
    }

    private static async Task Backoff(CancellationToken stop)
    {
        try
        {
            await Task.Delay(ErrorBackoff, stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    private HttpRequestMessage CreatePoll()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, _uri);
        var headers = request.Headers;
        headers.TryAddWithoutValidation("x-trigger-workload-controller-id", _controllerId);
        headers.TryAddWithoutValidation("x-trigger-deployment-id", _key.Deployment);
        headers.TryAddWithoutValidation("x-trigger-deployment-version", _key.Version);
        headers.TryAddWithoutValidation("x-trigger-machine-cpu", _key.Cpu);
        headers.TryAddWithoutValidation("x-trigger-machine-memory", _key.Memory);
        headers.TryAddWithoutValidation("x-trigger-worker-instance-name", "loadtool");
        return request;
    }

    private void Receive(ReadOnlySpan<byte> body)
    {
        if (!WireParsing.TryReadDelivery(body, out var run))
        {
            Stats.BadBodies++;
            Stats.FirstError ??= $"GET {_uri}: 200 without a run id: {Encoding.UTF8.GetString(body[..Math.Min(body.Length, 200)])}";
            return;
        }

        Stats.Delivered++;
        var misrouted = !_key.Matches(run);
        if (misrouted)
        {
            Stats.Misrouted++;
            Stats.FirstError ??= $"GET {_uri}: key {_key.Deployment}/{_key.Version}/{_key.Cpu}/{_key.Memory} received run {Encoding.UTF8.GetString(run.RunId)} of {Encoding.UTF8.GetString(run.Deployment)}/{Encoding.UTF8.GetString(run.Version)}/{run.Cpu}/{run.Memory}";
        }

        if (plan.Ledger is { } ledger
            && run.RunId.StartsWith(plan.RunIdPrefix)
            && Utf8Parser.TryParse(run.RunId[plan.RunIdPrefix.Length..], out long n, out var consumed)
            && consumed == run.RunId.Length - plan.RunIdPrefix.Length)
        {
            if (ledger.TryReceive(n, misrouted))
            {
                return;
            }

            // Our prefix, but never dispatched by us: a phantom.
            Stats.Unknown++;
        }
        else
        {
            Stats.Foreign++;
        }

        if (plan.KeepReceivedIds)
        {
            (Stats.ForeignIds ??= []).Add(Encoding.UTF8.GetString(run.RunId));
            (Stats.ForeignMisrouted ??= []).Add(misrouted);
        }
    }

    // xorshift64*: cheap, per controller, reproducible from --Seed.
    private double NextDouble()
    {
        var x = _random;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        _random = x;
        return ((x * 0x2545F4914F6CDD1DUL) >> 11) * (1.0 / (1UL << 53));
    }
}
