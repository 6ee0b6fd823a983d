using BenchmarkDotNet.Attributes;
using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Benchmarks;

/// <summary>The cache-hit path in process: parse + key, lookup, write the response. Zero allocations is the target.</summary>
[MemoryDiagnoser]
public class HitPathBenchmarks
{
    private readonly byte[] _key = new byte[QueryParser.MaxKeyLength];
    private readonly byte[] _response = new byte[DnsLimits.MaxMessageLength];
    private byte[] _query = [];
    private DnsCache _cache = null!;

    [Params(1, 4)]
    public int Records { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cache = new DnsCache(new CacheOptions { PositiveEntries = 100_000 }, TimeProvider.System);
        for (int i = 0; i < 50_000; i++)
        {
            string name = $"svc{i}.default.svc.cluster.local";
            byte[] key = [.. Messages.Name(name), 0, 1, 0, 1, 0];
            _cache.Insert(key, Messages.Template(name, Records), EntryKind.Positive, ttlSeconds: 3600);
        }

        _query = Messages.Query("Svc4242.Default.svc.cluster.local");
    }

    [Benchmark]
    public QueryVerdict ParseQuery() => QueryParser.Parse(_query, _key, out _);

    [Benchmark]
    public bool ParseAndLookup()
    {
        QueryParser.Parse(_query, _key, out QueryInfo info);
        return _cache.TryGetFresh(_key.AsSpan(0, info.KeyLength), TimeProvider.System.GetTimestamp(), out _);
    }

    [Benchmark(Baseline = true)]
    public int FullHit()
    {
        QueryParser.Parse(_query, _key, out QueryInfo info);
        long now = TimeProvider.System.GetTimestamp();
        _cache.TryGetFresh(_key.AsSpan(0, info.KeyLength), now, out CacheEntry entry);
        uint elapsed = (uint)((now - entry.StoredAt) / TimeProvider.System.TimestampFrequency);
        return entry.TryWrite(_query, info, elapsed, info.UdpResponseLimit, _response);
    }
}
