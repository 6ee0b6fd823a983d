using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Gives memory the GC holds but no longer uses back to the OS. After a burst of misses (a flood of unique names)
/// the GC keeps the heap it grew to committed, and with no collection after the burst nothing gives it back. When
/// committed memory is well above the live heap, one compacting, decommitting full collection brings RSS back near
/// the live size. The cache lives outside the GC heap, so the live heap is small (about 10 MiB with 100k cached
/// answers) and the collection pauses serving for a few milliseconds (queries wait in the socket buffers). It runs
/// once the load is over — while queries keep allocating, the committed memory is the GC's working budget and a trim
/// would only cost a pause — and at most once per <see cref="MinimumSpacing"/>.
/// </summary>
public sealed partial class MemoryTrimmer(TimeProvider time, ILogger<MemoryTrimmer> logger) : BackgroundService
{
    public static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(10);
    public static readonly TimeSpan MinimumSpacing = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Unused committed memory worth a pause to give back. After a burst of 100,000 misses the GC keeps about 10 MiB
    /// committed over a live heap of about 5.4 MiB (mostly the cache's index); a trim gives the difference back.
    /// </summary>
    private const long Slack = 4L << 20;

    /// <summary>Allocated between two checks by a node that is still serving a burst of misses.</summary>
    private const long BusyAllocation = 8L << 20;

    /// <summary>True when committed memory is over 1.5 times the live heap and more than <see cref="Slack"/> above it.</summary>
    public static bool IsWorthTrimming(long committedBytes, long heapBytes) =>
        committedBytes > heapBytes * 3 / 2 && committedBytes - heapBytes > Slack;

    /// <summary>True when less than <see cref="BusyAllocation"/> was allocated since the last check: the burst is over.</summary>
    public static bool IsQuiet(long allocatedSinceLastCheck) => allocatedSinceLastCheck < BusyAllocation;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(CheckInterval, time);
        long lastTrim = 0;
        long allocated = GC.GetTotalAllocatedBytes();
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                GCMemoryInfo before = GC.GetGCMemoryInfo();
                long allocatedSinceLastCheck = GC.GetTotalAllocatedBytes() - allocated;
                allocated += allocatedSinceLastCheck;
                if ((lastTrim != 0 && time.GetElapsedTime(lastTrim) < MinimumSpacing) || !IsQuiet(allocatedSinceLastCheck)
                    || !IsWorthTrimming(before.TotalCommittedBytes, before.HeapSizeBytes))
                {
                    continue;
                }

                lastTrim = time.GetTimestamp();
                GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                LogTrimmed(before.TotalCommittedBytes >> 20, GC.GetGCMemoryInfo().TotalCommittedBytes >> 20,
                    time.GetElapsedTime(lastTrim).TotalMilliseconds);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "gave unused memory back: {Before} MiB committed before, {After} MiB after, in {Milliseconds:F0} ms")]
    private partial void LogTrimmed(long before, long after, double milliseconds);
}
