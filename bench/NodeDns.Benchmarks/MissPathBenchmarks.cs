using BenchmarkDotNet.Attributes;
using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Benchmarks;

/// <summary>The miss path's CPU work without the network: read the upstream answer, scrub, classify, encode, insert.</summary>
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
        if (!ResponseClassifier.TryClassify(response, _name, TtlPolicy.Default, out Classification classified))
        {
            throw new InvalidOperationException("the benchmark's answer did not encode");
        }

        response.Return(); // as the miss path does: the encoded answer is in the thread's writer, not in the message
        return _cache.Insert(_key, classified.Shape, classified.Data, EntryKind.Positive, classified.Ttl);
    }
}
