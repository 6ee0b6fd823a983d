using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests;

/// <summary>An in-memory upstream whose behaviour each test scripts: answers, delays, silence, failures.</summary>
internal sealed class ScriptedTransport : IUpstreamTransport
{
    public Func<UpstreamServer, UpstreamQuestion, CancellationToken, Task<byte[]>> Script { get; set; } =
        (_, q, _) => Task.FromResult(Answer(q, 300));

    public ConcurrentQueue<(UpstreamServer Server, UpstreamQuestion Question)> Calls { get; } = new();

    public int CallsFor(string name) => Calls.Count(c => DnsName.ToText(c.Question.Name) == name + ".");

    public async ValueTask<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question, UdpReactor? reactor, CancellationToken cancellation)
    {
        // The forwarder reuses its question once the try ended: keep a copy.
        Calls.Enqueue((server, new UpstreamQuestion(question.Name.ToArray(), question.Type, question.Class, question.DnssecOk,
            question.CheckingDisabled, question.UseEdns)));
        byte[] reply = await Script(server, question, cancellation).ConfigureAwait(false);
        Assert.True(ResponseReader.TryRead(reply, out DnsResponseMessage response));
        return response;
    }

    public static byte[] Reply(UpstreamQuestion q, int rcode, Action<Wire>? records = null, int answers = 0, int authority = 0)
    {
        var wire = new Wire().Header(1, (ushort)(0x8180 | rcode), 1, answers, authority, 0).Bytes(q.Name.ToArray()).U16(q.Type).U16(q.Class);
        records?.Invoke(wire);
        return wire.ToArray();
    }

    public static byte[] Answer(UpstreamQuestion q, uint ttl, byte last = 1) =>
        Reply(q, 0, w => w.Bytes(q.Name.ToArray()).U16(1).U16(1).U32(ttl).U16(4).Bytes([192, 0, 2, last]), answers: 1);

    public static byte[] NxDomain(UpstreamQuestion q, uint ttl) =>
        Reply(q, 3, w => w.Record("example", 6, ttl, Wire.Soa("ns.example", "host.example", ttl)), authority: 1);

    /// <summary>No reply; cancelled on the thread that cancels, as the real transport is.</summary>
    public static Task<byte[]> Silence(CancellationToken cancellation)
    {
        var never = new TaskCompletionSource<byte[]>();
        cancellation.Register(() => never.TrySetCanceled(cancellation));
        return never.Task;
    }
}

/// <summary>The query pipeline wired to a scripted upstream and a fake clock.</summary>
internal sealed class PipelineHarness
{
    public PipelineHarness(PipelineOptions? options = null, CacheOptions? cache = null, int upstreams = 1, int maxFails = 2, ClientPolicyOptions? clients = null,
        ISearchPaths? searchPaths = null)
    {
        Cache = new DnsCache(cache ?? new CacheOptions(), Time);
        Forwarder = new Forwarder(new ForwarderOptions(), Time, Transport, new ForwarderCounters());
        Pool = new UpstreamPool([.. Enumerable.Range(1, upstreams).Select(i => new UpstreamServer(new IPEndPoint(IPAddress.Parse($"127.0.0.{i}"), 53), UpstreamTransport.Udp))],
            UpstreamPolicy.Sequential, maxFails);
        var router = new ZoneRouter([new ZoneRoute([0], Pool, TtlPolicy.Default)]);
        Pipeline = new QueryPipeline(Cache, () => router, Forwarder, Time, options ?? new PipelineOptions(), clients: clients is null ? null : new ClientPolicy(clients, Time),
            searchPaths: searchPaths);
    }

    public FakeTimeProvider Time { get; } = new();
    public ScriptedTransport Transport { get; } = new();
    public DnsCache Cache { get; }
    public Forwarder Forwarder { get; }
    public UpstreamPool Pool { get; }
    public QueryPipeline Pipeline { get; }

    /// <summary>Asks like a client would; time only moves when the test advances it (see <see cref="RunAsync"/>).</summary>
    public Task<byte[]> AskAsync(string name, ushort id = 0x4242, string client = "127.0.0.1", ushort type = DnsType.A, bool overTcp = false)
    {
        var from = new ClientContext(0, overTcp, false) { Address = ClientAddress.From(IPAddress.Parse(client)) };
        byte[] query = Wire.Query(name, type, id: id);
        byte[] key = new byte[QueryParser.MaxKeyLength];
        byte[] response = new byte[DnsLimits.MaxMessageLength];
        QueryOutcome outcome = Pipeline.Process(query, from, key, response, out int length, out QueryInfo info);
        return outcome == QueryOutcome.Answered ? Task.FromResult(response[..length]) : ResolveAsync(query, info, key[..info.KeyLength], from);
    }

    private async Task<byte[]> ResolveAsync(byte[] query, QueryInfo info, byte[] key, ClientContext from)
    {
        byte[] answer = new byte[QueryPipeline.MaxAnswerLength];
        int length = await Pipeline.ResolveMissAsync(query, info, key, from, answer, CancellationToken.None).ConfigureAwait(false);
        return answer[..length];
    }

    /// <summary>Advances fake time in small steps (letting continuations run) until <paramref name="task"/> completes.</summary>
    public async Task<T> RunAsync<T>(Task<T> task, TimeSpan? limit = null)
    {
        TimeSpan advanced = TimeSpan.Zero;
        while (!task.IsCompleted)
        {
            Assert.True(advanced <= (limit ?? TimeSpan.FromSeconds(10)), $"still running after {advanced} of fake time");
            await Task.Delay(2);
            if (!task.IsCompleted)
            {
                Time.Advance(TimeSpan.FromMilliseconds(50));
                advanced += TimeSpan.FromMilliseconds(50);
            }
        }

        return await task;
    }

    /// <summary>Lets background work (prefetch, forwards) finish without moving time.</summary>
    public async Task SettleAsync()
    {
        for (int i = 0; i < 50 && Pipeline.InFlight > 0; i++)
        {
            await Task.Delay(5);
        }

        Assert.Equal(0, Pipeline.InFlight);
    }

    public static int Rcode(byte[] response) => response[3] & 0xF;

    public static uint FirstTtl(byte[] response)
    {
        Assert.True(ResponseReader.TryRead(response, out DnsResponseMessage parsed));
        return parsed.Records[0].Ttl;
    }

    public static byte LastOctet(byte[] response) => response[response.Length - 12]; // the A record's last byte, before our OPT
}
