using System.Net;
using BenchmarkDotNet.Attributes;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Benchmarks;

/// <summary>
/// A whole cache miss in process, with an upstream that answers at once: parse, miss, join, forward (timers, tasks,
/// upstream question), read the answer, classify, encode, insert, write the client's response. Each call asks a new
/// name. The network part (sockets, system calls) is what the dnsperf comparison adds to this.
/// </summary>
[MemoryDiagnoser]
public class ForwardedMissBenchmarks
{
    private const string Suffix = ".miss.example";
    private readonly byte[] _key = new byte[QueryParser.MaxKeyLength];
    private readonly byte[] _response = new byte[DnsLimits.MaxMessageLength];
    private readonly ClientContext _client = new(0, OverTcp: false, Ipv6: false);
    private readonly byte[] _query = Messages.Query("q00000000" + Suffix);
    private QueryPipeline _pipeline = null!;
    private uint _next;

    [GlobalSetup]
    public void Setup()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 100_000 }, TimeProvider.System);
        var pool = new UpstreamPool([new UpstreamServer(new IPEndPoint(IPAddress.Loopback, 53), UpstreamTransport.Udp)], UpstreamPolicy.Random);
        var router = new ZoneRouter([new ZoneRoute([0], pool, TtlPolicy.Default)]);
        var counters = new ForwarderCounters();
        var forwarder = new Forwarder(new ForwarderOptions(), TimeProvider.System, new AnsweringTransport(), counters);
        _pipeline = new QueryPipeline(cache, () => router, forwarder, TimeProvider.System, new PipelineOptions());
    }

    [Benchmark]
    public int Miss()
    {
        // A fresh name each call: "q" and 8 hex digits in the first label.
        uint n = _next++;
        for (int i = 0; i < 8; i++)
        {
            _query[12 + 2 + i] = (byte)"0123456789abcdef"[(int)((n >> (28 - (4 * i))) & 0xF)];
        }

        if (_pipeline.Process(_query, _client, _key, _response, out _, out QueryInfo info) != QueryOutcome.Miss)
        {
            throw new InvalidOperationException("expected a miss");
        }

        Task<byte[]> answer = _pipeline.ResolveMissAsync(_query.ToArray(), info, _key[..info.KeyLength], _client, CancellationToken.None);
        return answer.IsCompletedSuccessfully ? answer.Result.Length : throw new InvalidOperationException("expected a synchronous answer");
    }

    /// <summary>Answers every question at once with one A record.</summary>
    private sealed class AnsweringTransport : IUpstreamTransport
    {
        public Task<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question, UdpReactor? reactor, CancellationToken cancellation)
        {
            byte[] reply = Messages.Answer(DnsName.ToText(question.Name), 1);
            return ResponseReader.TryRead(reply, out DnsResponseMessage response)
                ? Task.FromResult(response)
                : throw new InvalidOperationException("bad benchmark answer");
        }
    }
}
