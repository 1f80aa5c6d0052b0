using System.Collections.Concurrent;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Firestarter.Protocol;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Firestarter.Limits;

/// <summary>
/// Caps how many polls are held, in total and per match key (<see cref="LimitsOptions"/>): a poll takes a slot
/// before it parks and gives it back when it ends, whatever the outcome.
/// </summary>
/// <remarks>
/// Kept beside the pool rather than in it, so the pool stays a matcher. Slots are counted exactly (a burst of polls
/// cannot overshoot), and per-key counters are dropped when they reach zero, so keys that come and go leave nothing
/// behind. With no limit configured, taking a slot is a field test.
/// </remarks>
internal sealed partial class ParkingLimits
{
    private readonly int _maxParked;
    private readonly int _maxPerKey;
    private readonly long _retryAfterSeconds;
    private readonly ConcurrentDictionary<MatchKey, KeyCount> _perKey = new();
    private readonly ILogger _logger;
    private int _parked;

    public ParkingLimits(IOptions<LimitsOptions> options, ILogger<ParkingLimits> logger)
    {
        var limits = options.Value;
        _maxParked = limits.MaxParked;
        _maxPerKey = limits.MaxParkedPerKey;
        _retryAfterSeconds = Problem.RetryAfterSeconds(limits.RetryAfter);
        _logger = logger;
    }

    /// <summary>Slots taken right now (0 when no limit is configured).</summary>
    public int Taken => Volatile.Read(ref _parked);

    /// <summary>
    /// Takes a slot for a poll under <paramref name="key"/>; dispose it when the poll ends. Returns null, with
    /// <paramref name="problem"/> (a 503 with <c>Retry-After</c>), when a limit is reached.
    /// </summary>
    public Slot? TryTake(in MatchKey key, out Problem? problem)
    {
        problem = null;
        if (_maxParked == 0 && _maxPerKey == 0)
        {
            return Slot.Unlimited;
        }

        if (Interlocked.Increment(ref _parked) > _maxParked && _maxParked > 0)
        {
            Interlocked.Decrement(ref _parked);
            problem = Refuse(key, $"The broker holds its limit of {_maxParked} controllers (Firestarter:Limits:MaxParked).");
            return null;
        }

        if (_maxPerKey == 0)
        {
            return new Slot(this, null);
        }

        while (true)
        {
            var count = _perKey.GetOrAdd(key, static k => new KeyCount(k));
            lock (count)
            {
                if (count.Retired)
                {
                    // Dropped at zero between our lookup and our lock: take a fresh one.
                    continue;
                }

                if (count.Value >= _maxPerKey)
                {
                    Interlocked.Decrement(ref _parked);
                    problem = Refuse(key, $"The broker holds its limit of {_maxPerKey} controllers for this key (Firestarter:Limits:MaxParkedPerKey).");
                    return null;
                }

                count.Value++;
                return new Slot(this, count);
            }
        }
    }

    private void Release(KeyCount? count)
    {
        Interlocked.Decrement(ref _parked);
        if (count is null)
        {
            return;
        }

        lock (count)
        {
            if (--count.Value == 0)
            {
                count.Retired = true;
                _perKey.TryRemove(new KeyValuePair<MatchKey, KeyCount>(count.Key, count));
            }
        }
    }

    private Problem Refuse(in MatchKey key, string detail)
    {
        Log.LimitReached(_logger, key, detail);
        return new Problem(StatusCodes.Status503ServiceUnavailable, "too-many-controllers", "The broker holds as many controllers as it may.", detail)
            .WithRetryAfter(_retryAfterSeconds);
    }

    /// <summary>A taken slot; disposing it gives it back (once).</summary>
    internal sealed class Slot : IDisposable
    {
        public static readonly Slot Unlimited = new(null, null);

        private readonly ParkingLimits? _owner;
        // The key's count, which holds the key it was made for: a slot kept by a parked poll holds no strings of
        // the poll's own request.
        private readonly KeyCount? _perKey;
        private int _released;

        public Slot(ParkingLimits? owner, KeyCount? perKey)
        {
            _owner = owner;
            _perKey = perKey;
        }

        public void Dispose()
        {
            if (_owner is not null && Interlocked.Exchange(ref _released, 1) == 0)
            {
                _owner.Release(_perKey);
            }
        }
    }

    internal sealed class KeyCount(MatchKey key)
    {
        public MatchKey Key { get; } = key;

        public int Value;
        public bool Retired;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = EventIds.ParkLimitReached, Level = LogLevel.Debug, Message = "Poll under {Key} refused with 503: {Detail}")]
        public static partial void LimitReached(ILogger logger, MatchKey key, string detail);
    }
}
