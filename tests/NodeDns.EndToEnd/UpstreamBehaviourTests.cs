using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>nodedns against a scripted upstream: caching, deadlines, forged replies, truncation, coalescing.</summary>
public sealed class UpstreamBehaviourTests
{
    private static IReadOnlyList<byte[]> Replies(params byte[][] replies) => replies;

    [Fact]
    public async Task A_repeated_query_is_answered_from_cache()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        LookupClient client = daemon.Client();

        for (int i = 0; i < 5; i++)
        {
            IDnsQueryResponse response = await client.QueryAsync("cached.example", QueryType.A);
            Assert.Equal(IPAddress.Parse("192.0.2.1"), Assert.Single(response.Answers.ARecords()).Address);
        }

        Assert.Equal(1, upstream.CountFor("cached.example"));
        string metrics = await daemon.ScrapeAsync();
        Assert.Equal(4, MetricsText.Value(metrics, "coredns_cache_hits_total", "type=success"));
    }

    [Fact]
    public async Task Silent_upstream_gives_servfail_before_glibc_gives_up() // FL-01
    {
        await using var upstream = new ScriptedUpstream(_ => Task.FromResult(Replies()));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        var watch = Stopwatch.StartNew();
        IDnsQueryResponse response = await daemon.Client(timeoutMs: 6000).QueryAsync("silent.example", QueryType.A);
        watch.Stop();

        Assert.Equal(DnsHeaderResponseCode.ServerFailure, response.Header.ResponseCode);
        // After the tries (0 s and 2 s) and within the client's 6 s; the 4 s deadline itself is PipelineTests' (fake time).
        Assert.True(watch.Elapsed.TotalSeconds >= 3.0, $"SERVFAIL after {watch.Elapsed}, before the tries were made");
        Assert.InRange(upstream.CountFor("silent.example"), 2, 3); // at most two retries
        await Eventually.TrueAsync(() => daemon.Output.Contains("no upstream answered silent.example. 1: ", StringComparison.Ordinal));
        Assert.Contains("did not answer in time", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slow_upstream_answer_still_gets_through() // FL-02
    {
        await using var upstream = new ScriptedUpstream(async q =>
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            return Replies(ScriptedUpstream.AnswerA(q.Message, 60));
        });
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        IDnsQueryResponse response = await daemon.Client(timeoutMs: 6000).QueryAsync("slow.example", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.NoError, response.Header.ResponseCode);
        Assert.Single(response.Answers.ARecords());
    }

    [Fact]
    public async Task Forged_replies_are_ignored_and_the_real_one_accepted() // CP-03, CP-04
    {
        await using var upstream = new ScriptedUpstream(async q =>
        {
            if (q.Name == "victim.example")
            {
                return Replies(ScriptedUpstream.AnswerA(q.Message, 60, last: 8));
            }

            byte[] real = ScriptedUpstream.AnswerA(q.Message, 60, last: 7);
            byte[] wrongId = [.. real];
            wrongId[0] ^= 0xFF;
            byte[] otherQuestion = ScriptedUpstream.AnswerA(Wire.Query("victim.example", id: q.Id), 60, last: 66);
            byte[] notAResponse = [.. real];
            notAResponse[2] &= 0x7F;
            await Task.Delay(50);
            return Replies([], [1, 2, 3, 4, 5, 6, 7], wrongId, otherQuestion, notAResponse, real); // UR-04, CP-04, CP-03
        });
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        IDnsQueryResponse response = await daemon.Client().QueryAsync("forged.example", QueryType.A);
        Assert.Equal(IPAddress.Parse("192.0.2.7"), Assert.Single(response.Answers.ARecords()).Address);
        IDnsQueryResponse victim = await daemon.Client().QueryAsync("victim.example", QueryType.A);
        Assert.Equal(1, upstream.CountFor("victim.example")); // nothing was cached for it
        Assert.Equal(IPAddress.Parse("192.0.2.8"), Assert.Single(victim.Answers.ARecords()).Address);
    }

    [Fact]
    public async Task Truncated_upstream_answer_is_retried_over_tcp_and_not_cached_truncated() // CP-11
    {
        await using var upstream = new ScriptedUpstream(q => Task.FromResult(q.OverTcp
            ? Replies(ScriptedUpstream.AnswerA(q.Message, 60, last: 9))
            : Replies(ScriptedUpstream.Reply(q.Message, 0, 0, [], extraFlags: 0x0200))));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        IDnsQueryResponse response = await daemon.Client().QueryAsync("tc.example", QueryType.A);
        Assert.False(response.Header.ResultTruncated);
        Assert.Equal(IPAddress.Parse("192.0.2.9"), Assert.Single(response.Answers.ARecords()).Address);
        Assert.Contains(upstream.Received, q => q.OverTcp && q.Name == "tc.example");
    }

    [Fact]
    public async Task An_upstream_that_rejects_edns_is_asked_again_without_it() // ED-14
    {
        await using var upstream = new ScriptedUpstream(q => Task.FromResult(Wire.ReadU16(q.Message, 10) > 0
            ? Replies(ScriptedUpstream.Reply(q.Message, 1, 0, []))
            : Replies(ScriptedUpstream.AnswerA(q.Message, 60, last: 14))));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        IDnsQueryResponse response = await daemon.Client().QueryAsync("old.example", QueryType.A);
        Assert.Equal(IPAddress.Parse("192.0.2.14"), Assert.Single(response.Answers.ARecords()).Address);
        Assert.Contains(upstream.Received, q => Wire.ReadU16(q.Message, 10) == 0);
    }

    [Fact]
    public async Task Oversized_udp_answer_is_fetched_again_over_tcp() // UR-06
    {
        byte[] BigAnswer(byte[] query, byte last)
        {
            var records = new Wire();
            for (int i = 0; i < 60; i++)
            {
                records.Record(ScriptedUpstream.ReadName(query), 16, 60, [80, .. new byte[80]]);
            }

            records.Record(ScriptedUpstream.ReadName(query), 1, 60, [192, 0, 2, last]);
            return ScriptedUpstream.Reply(query, 0, 61, records.ToArray());
        }

        await using var upstream = new ScriptedUpstream(q => Task.FromResult(Replies(BigAnswer(q.Message, q.OverTcp ? (byte)10 : (byte)11))));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        IDnsQueryResponse response = await daemon.Client(tcp: true).QueryAsync("huge.example", QueryType.ANY);
        Assert.Equal(IPAddress.Parse("192.0.2.10"), Assert.Single(response.Answers.ARecords()).Address);
        Assert.Equal(60, response.Answers.TxtRecords().Count());
        Assert.Contains(upstream.Received, q => q.OverTcp);
    }

    [Fact]
    public async Task An_answer_with_more_records_than_allowed_gets_servfail_before_the_deadline() // UR-07
    {
        static byte[] TooMany(byte[] query)
        {
            var records = new Wire();
            for (int i = 0; i < 1001; i++)
            {
                records.Bytes([0xC0, 12]).U16(1).U16(1).U32(60).U16(4).Bytes([192, 0, 2, (byte)i]);
            }

            return ScriptedUpstream.Reply(query, 0, 1001, records.ToArray());
        }

        await using var upstream = new ScriptedUpstream(q => Task.FromResult(Replies(TooMany(q.Message))));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint + "/tcp");

        // The client gives up after 3 s, before the 4 s forwarding deadline: an answer at all shows it came at once.
        IDnsQueryResponse response = await daemon.Client(timeoutMs: 3000).QueryAsync("many.example", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.ServerFailure, response.Header.ResponseCode);
    }

    [Fact]
    public async Task Tcp_only_upstream_gets_pipelined_queries_on_one_connection() // CP-13
    {
        await using var upstream = new ScriptedUpstream(async q =>
        {
            await Task.Delay(q.Name.StartsWith("slow", StringComparison.Ordinal) ? 300 : 10);
            return Replies(ScriptedUpstream.AnswerA(q.Message, 60));
        });
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint + "/tcp");
        LookupClient client = daemon.Client();

        IDnsQueryResponse[] answers = await Task.WhenAll(Enumerable.Range(0, 20)
            .Select(i => client.QueryAsync($"{(i % 2 == 0 ? "slow" : "fast")}{i}.example", QueryType.A)));

        Assert.All(answers, a => Assert.Single(a.Answers.ARecords()));
        Assert.Equal(20, upstream.Received.Count(q => q.OverTcp));
        Assert.Single(upstream.Received.Select(q => q.From.Port).Distinct());
    }

    [Fact]
    public async Task Concurrent_identical_misses_cause_one_upstream_query() // CP-05, LD-01
    {
        await using var upstream = new ScriptedUpstream(async q =>
        {
            await Task.Delay(300);
            return Replies(ScriptedUpstream.AnswerA(q.Message, 60));
        });
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        IDnsQueryResponse[] answers = await Task.WhenAll(Enumerable.Range(0, 50)
            .Select(_ => daemon.Client().QueryAsync("same.example", QueryType.A)));

        Assert.All(answers, a => Assert.Single(a.Answers.ARecords()));
        Assert.Equal(1, upstream.CountFor("same.example"));
    }

    [Fact]
    public async Task Upstream_queries_use_random_ids_and_source_ports() // CP-01, CP-02 (small sample)
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        LookupClient client = daemon.Client();
        for (int i = 0; i < 100; i++)
        {
            await client.QueryAsync($"n{i}.example", QueryType.A);
        }

        ReceivedQuery[] queries = [.. upstream.Received];
        Assert.Equal(100, queries.Length);
        Assert.True(queries.Select(q => q.Id).Distinct().Count() >= 95, "IDs repeat too often");
        Assert.True(queries.Select(q => q.From.Port).Distinct().Count() >= 95, "source ports repeat too often");
        int[] ports = [.. queries.Select(q => q.From.Port)];
        Assert.True(ports.Max() - ports.Min() > 20_000, "source ports are not spread over the range");
        Assert.All(queries, q => Assert.Equal(0x0100, Wire.ReadU16(q.Message, 2) & 0x0100)); // RD set
    }

    [Fact]
    public async Task Malformed_packets_do_not_stop_the_daemon() // MQ-*, LD-06
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var random = new Random(42);
        for (int i = 0; i < 2000; i++)
        {
            byte[] junk = new byte[random.Next(0, 600)];
            random.NextBytes(junk);
            await socket.SendToAsync(junk, SocketFlags.None, daemon.EndPoint);
        }

        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp); // its buffer is not full of junk replies
        byte[] formErr = new Wire().Header(0x5151, 0x0100, 2, 0, 0, 0).ToArray();
        await probe.SendToAsync(formErr, SocketFlags.None, daemon.EndPoint);
        byte[] buffer = new byte[512];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        int length;
        do
        {
            length = (await probe.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token)).ReceivedBytes;
        }
        while (Wire.ReadU16(buffer, 0) != 0x5151);

        Assert.Equal(1, buffer[3] & 0xF); // FORMERR
        IDnsQueryResponse response = await daemon.Client().QueryAsync("alive.example", QueryType.A);
        Assert.Single(response.Answers.ARecords());
        Assert.False(daemon.HasExited);
        Assert.Equal(0, MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_internal_errors_total"));
        Assert.True(length >= 12);
    }

    [Fact]
    public async Task Tcp_answers_pipelined_queries_as_they_complete() // TC-03, TC-04
    {
        await using var upstream = new ScriptedUpstream(async q =>
        {
            await Task.Delay(q.Name.StartsWith("slow", StringComparison.Ordinal) ? 1000 : 0);
            return Replies(ScriptedUpstream.AnswerA(q.Message, 60));
        });
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(daemon.EndPoint);
        byte[] slow = Wire.Query("slow.example", id: 1);
        byte[] fast = Wire.Query("fast.example", id: 2);
        await tcp.SendAsync((byte[])[0, (byte)slow.Length, .. slow, 0, (byte)fast.Length, .. fast], SocketFlags.None);

        var ids = new List<ushort>();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(6));
        for (int i = 0; i < 2; i++)
        {
            byte[] prefix = new byte[2];
            await ReadExactlyAsync(tcp, prefix, cts.Token);
            byte[] message = new byte[Wire.ReadU16(prefix, 0)];
            await ReadExactlyAsync(tcp, message, cts.Token);
            ids.Add(Wire.ReadU16(message, 0));
        }

        Assert.Equal([2, 1], ids);
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellation)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellation);
            Assert.NotEqual(0, n);
            read += n;
        }
    }
}
