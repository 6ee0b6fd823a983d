using Prometheus;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// Records the pause of every garbage collection into a histogram, so that the longest stop-the-world pauses are
/// visible (the total alone hides whether it was one 20 ms pause or forty 0.5 ms ones). A finalizable sentinel
/// dies in every collection; its finalizer, run by the finalizer thread right after that collection, reads the
/// GC's own record of the collections since the last look (the last one of each kind: ephemeral, full blocking,
/// background) and leaves a new sentinel. Collections the watch did not see (several of one kind between two looks)
/// are counted, not guessed.
/// </summary>
public sealed class GcPauseWatch
{
    private readonly Histogram _pauses;
    private readonly Counter _unseen;
    private long _lastIndex;
    private long _lastCount;
    private volatile bool _stopped;

    public GcPauseWatch(MetricFactory factory)
    {
        _pauses = factory.CreateHistogram("nodedns_gc_pause_duration_seconds",
            "Stop-the-world pauses of garbage collections (a background collection has two short ones); answers wait meanwhile.",
            new HistogramConfiguration { Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25] });
        _unseen = factory.CreateCounter("nodedns_gc_collections_unseen_total",
            "Collections whose pauses nodedns_gc_pause_duration_seconds missed (more than one of a kind between two looks).");
        _lastIndex = GC.GetGCMemoryInfo(GCKind.Any).Index;
        _lastCount = GC.CollectionCount(0);
        _ = new Sentinel(this);
    }

    public void Stop() => _stopped = true;

    private void Look()
    {
        long seen = 0;
        long newest = _lastIndex;
        foreach (GCKind kind in (ReadOnlySpan<GCKind>)[GCKind.Ephemeral, GCKind.FullBlocking, GCKind.Background])
        {
            GCMemoryInfo info = GC.GetGCMemoryInfo(kind);
            if (info.Index <= _lastIndex)
            {
                continue;
            }

            foreach (TimeSpan pause in info.PauseDurations)
            {
                if (pause > TimeSpan.Zero)
                {
                    _pauses.Observe(pause.TotalSeconds);
                }
            }

            seen++;
            newest = Math.Max(newest, info.Index);
        }

        long count = GC.CollectionCount(0); // every collection includes generation 0
        _unseen.Inc(Math.Max(0, count - _lastCount - seen));
        _lastCount = count;
        _lastIndex = newest;
    }

    private sealed class Sentinel(GcPauseWatch watch)
    {
        ~Sentinel()
        {
            if (watch._stopped || Environment.HasShutdownStarted)
            {
                return;
            }

            watch.Look();
            _ = new Sentinel(watch);
        }
    }
}
