using NodeDns.Daemon.Hosting;

namespace NodeDns.Core.Tests;

public class MemoryTrimmerTests
{
    private const long MiB = 1 << 20;

    [Theory]
    [InlineData(152, 43, true)]   // after a miss flood: measured
    [InlineData(48, 48, false)]   // after a trim
    [InlineData(60, 20, true)]
    [InlineData(40, 15, true)]    // after a miss flood with the cache off the heap: measured 68 → 50 MiB RSS
    [InlineData(10, 5, true)]     // after a miss flood with the miss path's objects reused: measured 10.2 over 5.4 MiB
    [InlineData(9, 6, false)]     // too little to give back for a pause
    [InlineData(13, 10, false)]   // a normal young generation's headroom over the heap
    [InlineData(300, 200, false)] // a big live heap with normal headroom
    public void Trims_only_when_much_more_is_committed_than_used(long committedMiB, long heapMiB, bool expected) =>
        Assert.Equal(expected, MemoryTrimmer.IsWorthTrimming(committedMiB * MiB, heapMiB * MiB));

    [Theory]
    [InlineData(0, true)]
    [InlineData(2 * MiB, true)]      // timers, metrics scrapes: idle
    [InlineData(90 * MiB, false)]    // 2k misses/s for 10 s: the GC needs its budget, a trim would only pause
    public void Trims_only_once_the_allocations_of_a_burst_stopped(long allocatedSinceLastCheck, bool expected) =>
        Assert.Equal(expected, MemoryTrimmer.IsQuiet(allocatedSinceLastCheck));
}
