using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Firestarter.Diagnostics;
using Firestarter.Matching;
using Microsoft.Extensions.DependencyInjection;

namespace Firestarter.Tests.TestSupport;

internal sealed record Recorded(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string name) => Tags.TryGetValue(name, out var value) ? value as string : null;
}

/// <summary>
/// A real <see cref="FirestarterMetrics"/> on its own meter factory, with a listener that records only that
/// factory's measurements (tests running in parallel each have their own).
/// </summary>
internal sealed class MetricsRecorder : IDisposable
{
    private readonly ServiceProvider _services;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<Recorded> _recorded = new();
    private readonly ConcurrentQueue<Recorded> _observed = new();
    private readonly Lock _observing = new();

    public MetricsRecorder(WarmPool pool)
    {
        _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = _services.GetRequiredService<IMeterFactory>();
        Metrics = new FirestarterMetrics(factory, pool, new DispatchWindows(TimeProvider.System));
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == FirestarterMetrics.MeterName)
            {
                Published.Add(instrument);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public FirestarterMetrics Metrics { get; }

    public ConcurrentBag<Instrument> Published { get; } = [];

    public IReadOnlyList<Recorded> All => [.. _recorded];

    public IReadOnlyList<Recorded> Of(string instrument) => [.. _recorded.Where(r => r.Instrument == instrument)];

    /// <summary>
    /// Asks the observable instruments for their current values and returns only those (for the outcome counters:
    /// each outcome's running count), without touching <see cref="All"/>.
    /// </summary>
    public IReadOnlyList<Recorded> Observe()
    {
        lock (_observing)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            return [.. _observed];
        }
    }

    /// <summary>What the observable instrument <paramref name="instrument"/> reports now.</summary>
    public IReadOnlyList<Recorded> Current(string instrument) => [.. Observe().Where(r => r.Instrument == instrument)];

    /// <summary>
    /// The outcome tags an outcome counter has counted so far, each repeated as often as it was counted, in the
    /// counter's order of outcomes (not the order they happened in).
    /// </summary>
    public IReadOnlyList<string?> CountedOutcomes(string instrument) =>
        [.. Current(instrument).SelectMany(r => Enumerable.Repeat(r.Tag("outcome"), (int)r.Value))];

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue;
        }

        // Observable instruments report only when asked (Observe); everything else as it happens.
        (instrument.IsObservable ? _observed : _recorded).Enqueue(new Recorded(instrument.Name, value, copy));
    }
}
