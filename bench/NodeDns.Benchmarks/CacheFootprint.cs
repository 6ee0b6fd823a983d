using NodeDns.Caching;

namespace NodeDns.Benchmarks;

/// <summary>
/// Memory per cached answer: the process's resident memory and the GC heap before and after storing 100,000 answers
/// (names like a cluster's services, one and four A records), less the answers' own wire bytes, per answer. Uses only
/// the cache's public API, so the same file measures any version of it.
/// Run: dotnet run -c Release --project bench/NodeDns.Benchmarks -- --footprint
/// </summary>
internal static class CacheFootprint
{
    private const int Answers = 100_000;

    public static void Run()
    {
        Measure(1, report: false); // the first pass also pays for the runtime's own warm-up
        Console.WriteLine("| records per answer | answers | wire bytes per answer | RSS per answer | GC heap per answer | overhead per answer (RSS − wire) |");
        Console.WriteLine("|--:|--:|--:|--:|--:|--:|");
        foreach (int records in new[] { 1, 1, 4, 4 })
        {
            Measure(records, report: true);
        }
    }

    private static void Measure(int records, bool report)
    {
        Collect();
        long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        long rssBefore = ResidentBytes();
        var cache = new DnsCache(new CacheOptions { PositiveEntries = Answers * 2, MaxBytes = 1L << 30 }, TimeProvider.System);
        long wire = Fill(cache, records);
        Collect();
        long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        long rssAfter = ResidentBytes();
        double perAnswer(long bytes) => bytes / (double)Answers;
        if (report)
        {
            Console.WriteLine($"| {records} | {cache.PositiveCount:N0} | {perAnswer(wire):F0} B | {perAnswer(rssAfter - rssBefore):F0} B | "
                + $"{perAnswer(heapAfter - heapBefore):F0} B | {perAnswer(rssAfter - rssBefore - wire):F0} B |");
        }

        GC.KeepAlive(cache);
    }

    /// <summary>Stores the answers (the cache then holds the only references to what it keeps); returns their wire bytes.</summary>
    private static long Fill(DnsCache cache, int records)
    {
        long wire = 0;
        for (int i = 0; i < Answers; i++)
        {
            string name = $"svc{i}.ns{i % 50}.svc.cluster.local";
            var template = Messages.Template(name, records);
            wire += template.WireLength;
            cache.Insert([.. Messages.Name(name), 0, 1, 0, 1, 0], template, EntryKind.Positive, 3600);
        }

        return wire;
    }

    /// <summary>A compacting collection that gives unused heap back (and unmaps what dead caches held), so resident memory shows what is live.</summary>
    private static void Collect()
    {
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private static long ResidentBytes()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }
}
