using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>Serve-stale, failure caching and the memory bound, against the real binary.</summary>
public sealed class CacheIntelligenceTests
{
    private static IReadOnlyList<byte[]> Replies(params byte[][] replies) => replies;

    [Fact]
    public async Task Stale_answer_arrives_by_1_8_s_with_ttl_30_when_the_upstream_dies() // FL-05
    {
        bool alive = true;
        await using var upstream = new ScriptedUpstream(q => Task.FromResult(alive ? Replies(ScriptedUpstream.AnswerA(q.Message, 1, last: 4)) : Replies()));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        LookupClient client = daemon.Client(timeoutMs: 6000);
        Assert.Single((await client.QueryAsync("stale.example", QueryType.A)).Answers.ARecords());

        alive = false;
        await Task.Delay(1500);
        var watch = Stopwatch.StartNew();
        IDnsQueryResponse stale = await client.QueryAsync("stale.example", QueryType.A);
        watch.Stop();

        DnsClient.Protocol.ARecord record = Assert.Single(stale.Answers.ARecords());
        Assert.Equal(IPAddress.Parse("192.0.2.4"), record.Address);
        Assert.Equal(30, record.InitialTimeToLive);
        // Not before the stale timer; that it came from the timer and not the 4 s deadline shows in the answer itself
        // (stale data with TTL 30, not SERVFAIL). The exact 1.8 s is PipelineTests' (fake time): a busy machine
        // cannot fail this one.
        Assert.True(watch.Elapsed.TotalSeconds >= 1.6, $"stale answer after {watch.Elapsed}");
        Assert.Equal(1, MetricsText.Value(await daemon.ScrapeAsync(), "coredns_cache_served_stale_total"));
    }

    [Fact]
    public async Task With_serve_stale_off_a_dead_upstream_gives_servfail()
    {
        bool alive = true;
        await using var upstream = new ScriptedUpstream(q => Task.FromResult(alive ? Replies(ScriptedUpstream.AnswerA(q.Message, 1)) : Replies()));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--serve-stale", "off");
        LookupClient client = daemon.Client(timeoutMs: 6000);
        await client.QueryAsync("nostale.example", QueryType.A);
        alive = false;
        await Task.Delay(1500);
        Assert.Equal(DnsHeaderResponseCode.ServerFailure, (await client.QueryAsync("nostale.example", QueryType.A)).Header.ResponseCode);
    }

    [Fact]
    public async Task Upstream_failures_are_cached_so_repeats_do_not_reach_it() // FL-03, FL-04
    {
        await using var upstream = new ScriptedUpstream(q => Task.FromResult(Replies(ScriptedUpstream.Reply(q.Message, q.Name.StartsWith("refused", StringComparison.Ordinal) ? 5 : 2, 0, []))));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        LookupClient client = daemon.Client();

        foreach (string name in new[] { "servfail.example", "refused.example" })
        {
            Assert.Equal(DnsHeaderResponseCode.ServerFailure, (await client.QueryAsync(name, QueryType.A)).Header.ResponseCode);
            int afterFirst = upstream.CountFor(name);
            Assert.InRange(afterFirst, 1, 3);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(DnsHeaderResponseCode.ServerFailure, (await client.QueryAsync(name, QueryType.A)).Header.ResponseCode);
            }

            Assert.Equal(afterFirst, upstream.CountFor(name));
        }

        await Task.Delay(1200);
        await client.QueryAsync("servfail.example", QueryType.A);
        Assert.True(upstream.CountFor("servfail.example") > 1, "retried after the back-off");
    }

    [Fact]
    public async Task Unique_name_flood_keeps_entries_and_bytes_in_budget_and_hot_names_cached() // LD-03
    {
        await using var upstream = new ScriptedUpstream(q => Task.FromResult(Replies(
            ScriptedUpstream.Reply(q.Message, 3, 0, new Wire().Record("example", 6, 300, Wire.Soa("ns.example", "h.example", 300)).ToArray(), authority: 1))));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--cache-size", "500", "--cache-memory", "1Mi");
        LookupClient client = daemon.Client(timeoutMs: 6000);
        await client.QueryAsync("hot.example", QueryType.A);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        for (int round = 0; round < 20; round++)
        {
            for (int i = 0; i < 300; i++)
            {
                await socket.SendToAsync(Wire.Query($"r{round}-{i}.flood.example", id: (ushort)i), SocketFlags.None, daemon.EndPoint);
            }

            await Task.Delay(50);
            await client.QueryAsync("hot.example", QueryType.A);
        }

        await Task.Delay(500);
        string metrics = await daemon.ScrapeAsync();
        Assert.InRange(MetricsText.Value(metrics, "coredns_cache_entries", "type=denial"), 100, 500);
        Assert.InRange(MetricsText.Value(metrics, "nodedns_cache_bytes"), 1, 1 << 20);
        Assert.Equal(1, upstream.CountFor("hot.example"));
        Assert.False(daemon.HasExited);
    }
}
