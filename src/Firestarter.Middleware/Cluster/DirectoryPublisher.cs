using System.Collections.Concurrent;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Firestarter.Cluster;

/// <summary>
/// Keeps this instance's entries in the cluster's directory in step with its pool: which keys have a waiting
/// controller here. The pool only marks a key as changed (<see cref="IKeyAvailabilityObserver"/>); a flush, every
/// <see cref="ClusterOptions.PublishInterval"/>, looks at each changed key's state now and writes the keys whose
/// state differs from what the directory was last told, in one batch.
/// </summary>
/// <remarks>
/// <para>
/// Reading the pool's state at flush time, rather than replaying the transitions, makes a key that emptied and
/// filled again within one interval cost nothing, and makes the order of transitions from many threads irrelevant:
/// a key is taken off the changed set before its state is read, so a change after the read marks it again. A key
/// found empty is removed only when the next flush finds it empty too, so an idle controller renewing its poll
/// costs no write; meanwhile a hand-on may find no controller here and tries the next instance.
/// </para>
/// <para>
/// A write that failed may or may not have reached Redis, so its keys are marked changed again and the next write
/// for them is made whatever the directory was last told. When the directory may have lost this instance's entries
/// (Redis restarted empty, or this instance's lease lapsed), <see cref="RequestRepublish"/> writes every key again.
/// Flushes never overlap.
/// </para>
/// </remarks>
internal sealed partial class DirectoryPublisher : IKeyAvailabilityObserver, IDisposable
{
    private readonly ConcurrentDictionary<MatchKey, byte> _changed = new();
    private readonly HashSet<MatchKey> _published = [];
    private readonly HashSet<MatchKey> _unsure = [];
    private readonly HashSet<MatchKey> _emptyOnce = [];
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly IDirectoryStore _store;
    private readonly Func<MatchKey, bool> _holds;
    private readonly Func<IEnumerable<MatchKey>> _heldKeys;
    private readonly ClusterMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopped = new();
    private ITimer? _timer;
    private int _ticking;
    private bool _failing;
    private volatile bool _republish;
    private volatile bool _withdrawn;

    /// <param name="store">Where the entries are written.</param>
    /// <param name="holds">Whether the pool has a waiting controller for a key right now.</param>
    /// <param name="heldKeys">The keys with a waiting controller right now (for a full republish).</param>
    /// <param name="metrics">Counts the directory writes.</param>
    /// <param name="logger">Logs a failing store once per outage.</param>
    public DirectoryPublisher(
        IDirectoryStore store, Func<MatchKey, bool> holds, Func<IEnumerable<MatchKey>> heldKeys, ClusterMetrics? metrics = null, ILogger? logger = null)
    {
        _store = store;
        _holds = holds;
        _heldKeys = heldKeys;
        _metrics = metrics;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Flushes every <paramref name="interval"/> from now on, while the store is available; flushes never overlap.</summary>
    public void Start(TimeProvider time, TimeSpan interval) =>
        _timer ??= time.CreateTimer(static state => ((DirectoryPublisher)state!).Tick(), this, interval, interval);

    /// <summary>Stops the periodic flush (before a withdrawal, or when the host stops).</summary>
    public void Stop() => _timer?.Dispose();

    private void Tick()
    {
        if (_changed.IsEmpty && !_republish || !_store.IsAvailable || Interlocked.Exchange(ref _ticking, 1) == 1)
        {
            return;
        }

        _ = TickAsync();
    }

    private async Task TickAsync()
    {
        try
        {
            await FlushAsync(_stopped.Token);
            _failing = false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stopped.IsCancellationRequested)
        {
            if (!_failing)
            {
                _failing = true;
                Log.WriteFailed(_logger, ex.Message);
            }
        }
        finally
        {
            Volatile.Write(ref _ticking, 0);
        }
    }

    /// <summary>Keys changed since the last successful flush.</summary>
    public int PendingCount => _changed.Count;

    /// <summary>Keys the directory lists for this instance, as far as this instance knows (an instant's copy).</summary>
    public int PublishedCount
    {
        get
        {
            lock (_published)
            {
                return _published.Count;
            }
        }
    }

    public void KeyAvailabilityChanged(in MatchKey key, bool available) => _changed.TryAdd(key, 0);

    /// <summary>The next flush writes every key again: the directory may have lost them.</summary>
    public void RequestRepublish() => _republish = true;

    /// <summary>
    /// Writes the changed keys. Returns how many entries were written (0 when there was nothing to write); throws,
    /// leaving the keys marked, when the store failed.
    /// </summary>
    public async Task<int> FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            if (_withdrawn)
            {
                return 0;
            }

            if (_republish)
            {
                _republish = false;
                lock (_published)
                {
                    foreach (var key in _published)
                    {
                        _unsure.Add(key);
                        _changed.TryAdd(key, 0);
                    }

                    _published.Clear();
                }

                foreach (var key in _heldKeys())
                {
                    _changed.TryAdd(key, 0);
                }
            }

            return await WriteChangedAsync(withdrawAll: false, cancellationToken);
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>
    /// Removes every entry of this instance from the directory and stops publishing (the instance drains).
    /// Returns how many entries were removed; throws when the store failed (the lease then expires them).
    /// </summary>
    public async Task<int> WithdrawAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken);
        try
        {
            if (_withdrawn)
            {
                return 0;
            }

            _withdrawn = true;
            lock (_published)
            {
                foreach (var key in _published)
                {
                    _changed.TryAdd(key, 0);
                }
            }

            return await WriteChangedAsync(withdrawAll: true, cancellationToken);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task<int> WriteChangedAsync(bool withdrawAll, CancellationToken cancellationToken)
    {
        if (_changed.IsEmpty)
        {
            return 0;
        }

        List<MatchKey> added = [];
        List<MatchKey> removed = [];
        List<MatchKey>? lookAgain = null;
        lock (_published)
        {
            foreach (var (key, _) in _changed)
            {
                // Off the changed set before the state is read: a change after this read marks the key again.
                _changed.TryRemove(key, out _);
                var wanted = !withdrawAll && _holds(key);
                var unsure = _unsure.Remove(key);
                if (wanted)
                {
                    _emptyOnce.Remove(key);
                    if (unsure || !_published.Contains(key))
                    {
                        added.Add(key);
                    }
                }
                else if (unsure || _published.Contains(key))
                {
                    // A published key found empty is removed only if it is still empty at the next flush: an idle
                    // controller renewing its poll leaves its key empty for an instant, which then costs nothing.
                    if (withdrawAll || unsure || !_emptyOnce.Add(key))
                    {
                        _emptyOnce.Remove(key);
                        removed.Add(key);
                    }
                    else
                    {
                        (lookAgain ??= []).Add(key);
                    }
                }
            }
        }

        foreach (var key in lookAgain ?? [])
        {
            _changed.TryAdd(key, 0);
        }

        if (added.Count == 0 && removed.Count == 0)
        {
            return 0;
        }

        try
        {
            await _store.WriteAsync(added, removed, cancellationToken);
        }
        catch
        {
            // Written or not: write these keys again next time, whatever the directory was last told.
            lock (_published)
            {
                foreach (var key in added.Concat(removed))
                {
                    _unsure.Add(key);
                    _published.Remove(key);
                    if (!withdrawAll)
                    {
                        _changed.TryAdd(key, 0);
                    }
                }
            }

            throw;
        }

        lock (_published)
        {
            foreach (var key in added)
            {
                _published.Add(key);
            }

            foreach (var key in removed)
            {
                _published.Remove(key);
            }
        }

        _metrics?.DirectoryWritten(added.Count, removed.Count);
        return added.Count + removed.Count;
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _stopped.Cancel();
        _stopped.Dispose();
        _flushing.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ClusterDirectoryWriteFailed, Level = LogLevel.Warning,
            Message = "Cluster: the directory could not be written ({Reason}); retrying.")]
        public static partial void WriteFailed(ILogger logger, string reason);
    }
}

