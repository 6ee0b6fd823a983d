using System.Net;
using BenchmarkDotNet.Attributes;
using NodeDns.Caching;
using NodeDns.Daemon.Operations;
using NodeDns.Forwarding;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Benchmarks;

/// <summary>
/// A cache hit through the whole serving pipeline (parse, lookup, write, prefetch bookkeeping), without metrics and
/// with the daemon's Prometheus observer and client allow-list: the difference is their cost per hit.
/// </summary>
[MemoryDiagnoser]
public class PipelineHitBenchmarks
{
    private readonly byte[] _key = new byte[QueryParser.MaxKeyLength];
    private readonly byte[] _response = new byte[DnsLimits.MaxMessageLength];
    private readonly ClientContext _client = new(0, OverTcp: false, Ipv6: false);
    private byte[] _query = [];
    private QueryPipeline _plain = null!;
    private QueryPipeline _observed = null!;

    [GlobalSetup]
    public void Setup()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 100_000 }, TimeProvider.System);
        var pool = new UpstreamPool([new UpstreamServer(new IPEndPoint(IPAddress.Loopback, 53), UpstreamTransport.Udp)], UpstreamPolicy.Random);
        var router = new ZoneRouter([new ZoneRoute([0], pool, TtlPolicy.Default)]);
        ZoneRoute route = router.Routes[0];
        for (int i = 0; i < 50_000; i++)
        {
            string name = $"svc{i}.default.svc.cluster.local";
            cache.Insert([.. Messages.Name(name), 0, 1, 0, 1, 0], Messages.Template(name, 1), EntryKind.Positive, 3600, zone: route.Id);
        }

        var counters = new ForwarderCounters();
        var forwarder = new Forwarder(new ForwarderOptions(), TimeProvider.System, new NetworkTransport(counters), counters);
        var options = new PipelineOptions { PrefetchHits = 0 };
        _plain = new QueryPipeline(cache, () => router, forwarder, TimeProvider.System, options);
        var observer = new PrometheusQueryObserver(new DnsMetrics(), [new IPEndPoint(IPAddress.Loopback, 53)], TimeProvider.System);
        _observed = new QueryPipeline(cache, () => router, forwarder, TimeProvider.System, options, observer,
            new ClientPolicy(new ClientPolicyOptions(), TimeProvider.System));
        _query = Messages.Query("Svc4242.Default.svc.cluster.local");
    }

    [Benchmark(Baseline = true)]
    public int HitWithoutMetrics()
    {
        _plain.Process(_query, _client, _key, _response, out int length, out _);
        return length;
    }

    [Benchmark]
    public int HitWithMetrics()
    {
        _observed.Process(_query, _client, _key, _response, out int length, out _);
        return length;
    }
}
