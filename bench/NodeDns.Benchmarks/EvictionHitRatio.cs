using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Benchmarks;

/// <summary>
/// Hit ratio of the cache's CLOCK eviction against plain FIFO (the same ring without the second chance) on a
/// Zipf-distributed workload mixed with a flood of one-off names (random-subdomain attack). Deterministic.
/// Run: dotnet run -c Release --project bench/NodeDns.Benchmarks -- --hit-ratio
/// </summary>
internal static class EvictionHitRatio
{
    public static void Run()
    {
        Console.WriteLine("| workload | cache entries | CLOCK hit ratio | FIFO hit ratio |");
        Console.WriteLine("|---|--:|--:|--:|");
        foreach (double floodShare in new[] { 0.0, 0.5, 0.9 })
        {
            foreach (int capacity in new[] { 1_000, 10_000 })
            {
                double clock = Simulate(capacity, floodShare, secondChance: true);
                double fifo = Simulate(capacity, floodShare, secondChance: false);
                Console.WriteLine($"| Zipf(0.9) over 100k names, {floodShare:P0} one-off names | {capacity:N0} | {clock:P1} | {fifo:P1} |");
            }
        }
    }

    private static double Simulate(int capacity, double floodShare, bool secondChance)
    {
        var time = new ManualTime();
        var cache = new DnsCache(new CacheOptions { PositiveEntries = capacity, NegativeEntries = capacity, MaxBytes = 1L << 34 }, time);
        var random = new Random(7);
        double[] cumulative = ZipfCumulative(100_000, 0.9);
        ResponseTemplate template = Messages.Template("x.example", 1);
        int hits = 0;
        int lookups = 0;
        int flood = 0;
        for (int i = 0; i < 400_000; i++)
        {
            bool isFlood = random.NextDouble() < floodShare;
            byte[] key = isFlood ? Key($"f{flood++}.flood.example") : Key($"n{Pick(cumulative, random.NextDouble())}.example");
            bool hit = secondChance ? cache.TryGetFresh(key, time.GetTimestamp(), out _) : cache.TryGetAny(key, out _);
            if (!isFlood && i > 100_000)
            {
                lookups++;
                hits += hit ? 1 : 0;
            }

            if (!hit)
            {
                cache.Insert(key, template, isFlood ? EntryKind.Negative : EntryKind.Positive, 3600);
            }
        }

        return (double)hits / lookups;
    }

    private static byte[] Key(string name) => [.. Messages.Name(name), 0, 1, 0, 1, 0];

    private static double[] ZipfCumulative(int n, double s)
    {
        var cumulative = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            sum += 1 / Math.Pow(k + 1, s);
            cumulative[k] = sum;
        }

        for (int k = 0; k < n; k++)
        {
            cumulative[k] /= sum;
        }

        return cumulative;
    }

    private static int Pick(double[] cumulative, double u)
    {
        int index = Array.BinarySearch(cumulative, u);
        return index >= 0 ? index : ~index;
    }

    private sealed class ManualTime : TimeProvider
    {
        public override long GetTimestamp() => 0;
    }
}
