using BenchmarkDotNet.Attributes;
using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Benchmarks;

/// <summary>The miss path's CPU work without the network: read the upstream answer, classify, encode, insert.</summary>
[MemoryDiagnoser]
public class MissPathBenchmarks
{
    private readonly byte[] _answer = Messages.Answer("svc1.default.svc.cluster.local", 4);
    private readonly byte[] _name = Messages.Name("svc1.default.svc.cluster.local");
    private readonly byte[] _key = [.. Messages.Name("svc1.default.svc.cluster.local"), 0, 1, 0, 1, 0];
    private readonly DnsCache _cache = new(new CacheOptions { PositiveEntries = 1_000, NegativeEntries = 1_000 }, TimeProvider.System);

    [Benchmark]
    public CacheEntry ReadClassifyEncodeInsert()
    {
        ResponseReader.TryRead(_answer, out DnsResponseMessage response);
        ClassifiedResponse classified = ResponseClassifier.Classify(response, _name, TtlPolicy.Default)!;
        return _cache.Insert(_key, classified.Template, EntryKind.Positive, classified.Ttl);
    }
}
