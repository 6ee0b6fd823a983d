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
    private readonly byte[] _answer = new byte[DnsLimits.EdnsUdpPayload];
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

        ValueTask<int> answer = _pipeline.ResolveMissAsync(_query, info, _key.AsMemory(0, info.KeyLength), _client, _answer, CancellationToken.None);
        if (!answer.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("expected a synchronous answer");
        }

        // A failed forward (SERVFAIL) costs something else entirely: make sure the miss was answered.
        int length = answer.Result;
        return DnsHeader.Rcode(DnsHeader.Flags(_answer)) == DnsRcode.NoError && DnsHeader.AnswerCount(_answer) == 1
            ? length
            : throw new InvalidOperationException("the miss was not answered with the upstream's record");
    }

    /// <summary>Answers every question at once with one A record, as the network transport would: read from the wire.</summary>
    private sealed class AnsweringTransport : IUpstreamTransport
    {
        private readonly byte[] _reply = new byte[DnsLimits.EdnsUdpPayload];

        public ValueTask<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question, UdpReactor? reactor, CancellationToken cancellation)
        {
            question.WriteQuery(0x1234, _reply);
            int end = DnsLimits.HeaderLength + question.Name.Length + 4; // the question; the query's OPT is overwritten
            DnsHeader.SetFlags(_reply, DnsHeader.QrBit | DnsHeader.RdBit | DnsHeader.RaBit);
            DnsHeader.SetCounts(_reply, 1, 1, 0, 0);
            ReadOnlySpan<byte> record = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 10, 0, 0, 1];
            record.CopyTo(_reply.AsSpan(end));
            return ResponseReader.TryRead(_reply.AsSpan(0, end + record.Length), out DnsResponseMessage response)
                ? ValueTask.FromResult(response)
                : throw new InvalidOperationException("bad benchmark answer");
        }
    }
}
