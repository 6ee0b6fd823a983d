using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using DnsClient;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>Catalogue cases against the real binary: TCP abuse (TC-*), access control, the RFC 8906 §8 battery, entropy.</summary>
public sealed class HardeningTests
{
    [Fact]
    public async Task Idle_connections_and_a_slowloris_do_not_block_a_legitimate_tcp_query() // TC-09, TC-11
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < 30; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(daemon.EndPoint);
                idle.Add(socket);
            }

            var slowloris = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            idle.Add(slowloris);
            await slowloris.ConnectAsync(daemon.EndPoint);
            await slowloris.SendAsync(new byte[] { 0, 40, 0x12 }, SocketFlags.None); // a frame that never completes

            IDnsQueryResponse answer = await daemon.Client(tcp: true).QueryAsync("legit.example", QueryType.A);
            Assert.Single(answer.Answers.ARecords());
            // Answered while the slowloris still held its connection (its 5 s message timeout had not run out), so
            // the legitimate query did not wait for it, however slow the machine.
            Assert.False(slowloris.Poll(0, SelectMode.SelectRead), "the slowloris connection was closed before the legitimate query was answered");
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Idle_and_stalled_connections_are_closed_and_a_short_length_prefix_closes_only_its_connection() // TC-06, TC-07, TC-08
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--tcp-idle-timeout", "1s");
        using var idle = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await idle.ConnectAsync(daemon.EndPoint);
        using var shortPrefix = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await shortPrefix.ConnectAsync(daemon.EndPoint);
        await shortPrefix.SendAsync(new byte[] { 0, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, SocketFlags.None);

        var watch = Stopwatch.StartNew();
        Assert.Equal(0, await ReceiveOrZeroAsync(shortPrefix)); // closed at once: the idle connection is still open
        Assert.False(idle.Poll(0, SelectMode.SelectRead), "the idle connection was closed as early as the one with a short prefix");
        Assert.Equal(0, await ReceiveOrZeroAsync(idle)); // closed by the idle timeout (at most 5 s, ReceiveOrZeroAsync's bound)
        Assert.True(watch.Elapsed.TotalSeconds >= 0.5, $"the idle connection was closed after {watch.Elapsed}");
        Assert.Single((await daemon.Client(tcp: true).QueryAsync("still.example", QueryType.A)).Answers);
    }

    [Fact]
    public async Task Connections_beyond_the_per_client_cap_are_closed_at_once()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--tcp-per-client", "5");
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < 6; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(daemon.EndPoint);
                sockets.Add(socket);
            }

            Assert.Equal(0, await ReceiveOrZeroAsync(sockets[5]));
            Assert.True(MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_tcp_connections_rejected_total") >= 1);
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Clients_outside_the_allow_list_are_refused()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--allow", "10.0.0.0/8");
        IDnsQueryResponse response = await daemon.Client().QueryAsync("outside.example", QueryType.A);
        Assert.Equal(DnsHeaderResponseCode.Refused, response.Header.ResponseCode);
        Assert.Equal(0, upstream.CountFor("outside.example"));
        Assert.Equal(1, MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_refused_clients_total"));
        Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["--upstream", "127.0.0.1", "--allow", "10.0.0.0/40"])).ExitCode);
    }

    [Fact]
    public async Task Rfc_8906_section_8_battery_with_dig() // ED-04, ED-05, ED-06, ED-07, MQ-14, MQ-22, TC-02
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        IPEndPoint server = daemon.EndPoint;

        string plain = await Dig.RunAsync(server, "+norec", "+noedns", "soa.example", "SOA");
        Assert.Contains("status: NOERROR", plain, StringComparison.Ordinal);
        Assert.DoesNotContain("OPT PSEUDOSECTION", plain, StringComparison.Ordinal);

        string edns = await Dig.RunAsync(server, "+edns=0", "+nocookie", "a.example");
        Assert.Contains("EDNS: version: 0", edns, StringComparison.Ordinal);

        string badvers = await Dig.RunAsync(server, "+edns=1", "+noednsneg", "+nocookie", "a.example");
        Assert.Contains("status: BADVERS", badvers, StringComparison.Ordinal);
        Assert.Contains("EDNS: version: 0", badvers, StringComparison.Ordinal);

        string option = await Dig.RunAsync(server, "+edns=0", "+ednsopt=100", "+nocookie", "a.example");
        Assert.Contains("status: NOERROR", option, StringComparison.Ordinal);
        Assert.DoesNotContain("OPT=100", option, StringComparison.Ordinal); // unknown options are not echoed

        string flag = await Dig.RunAsync(server, "+edns=0", "+ednsflags=0x40", "+nocookie", "a.example");
        Assert.Contains("status: NOERROR", flag, StringComparison.Ordinal);
        Assert.Matches(@"EDNS: version: 0, flags:;", flag); // unknown flags cleared

        string dnssec = await Dig.RunAsync(server, "+dnssec", "+nocookie", "a.example");
        Assert.Matches(@"EDNS: version: 0, flags: do;", dnssec);

        string opcode = await Dig.RunAsync(server, "+opcode=15", "+noedns", "a.example");
        Assert.Contains("status: NOTIMP", opcode, StringComparison.Ordinal);

        string zflag = await Dig.RunAsync(server, "+zflag", "+noedns", "a.example");
        Assert.Contains("status: NOERROR", zflag, StringComparison.Ordinal);
        Assert.DoesNotContain(" z;", zflag, StringComparison.Ordinal);

        string tcp = await Dig.RunAsync(server, "+tcp", "+noedns", "a.example");
        Assert.Contains("status: NOERROR", tcp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ids_and_source_ports_of_1000_misses_are_unpredictable() // CP-01, CP-02
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        LookupClient client = daemon.Client();
        await Task.WhenAll(Enumerable.Range(0, 10).Select(async worker =>
        {
            for (int i = worker; i < 1000; i += 10)
            {
                await client.QueryAsync($"e{i}.example", QueryType.A);
            }
        }));

        ReceivedQuery[] queries = [.. upstream.Received];
        Assert.Equal(1000, queries.Length);
        ushort[] ids = [.. queries.Select(q => q.Id)];
        int[] ports = [.. queries.Select(q => q.From.Port)];
        Assert.True(ids.Distinct().Count() >= 985, $"{ids.Distinct().Count()} distinct IDs");
        Assert.True(ports.Distinct().Count() >= 950, $"{ports.Distinct().Count()} distinct ports");
        Assert.True(ports.Max() - ports.Min() > 20_000);
        Assert.True(ChiSquare(ids.Select(id => id >> 12)) < 37.7, "IDs are not uniform over 16 buckets (p < 0.001)");
        Assert.True(ChiSquare(ports.Select(p => (p - 1024) * 16 / (65536 - 1024))) < 37.7, "ports are not uniform over 16 buckets");
        int sequential = ports.Zip(ports.Skip(1)).Count(p => Math.Abs(p.First - p.Second) == 1);
        Assert.True(sequential < 10, $"{sequential} consecutive port pairs");
    }

    private static double ChiSquare(IEnumerable<int> buckets)
    {
        int[] counts = new int[16];
        int total = 0;
        foreach (int bucket in buckets)
        {
            counts[Math.Clamp(bucket, 0, 15)]++;
            total++;
        }

        double expected = total / 16.0;
        return counts.Sum(c => (c - expected) * (c - expected) / expected);
    }

    private static async Task<int> ReceiveOrZeroAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            return await socket.ReceiveAsync(new byte[512], SocketFlags.None, timeout.Token);
        }
        catch (SocketException)
        {
            return 0; // reset: closed too
        }
    }

    [Fact]
    public async Task Running_out_of_file_descriptors_gives_servfail_and_the_daemon_recovers()
    {
        bool slow = true;
        await using var upstream = new ScriptedUpstream(async q =>
        {
            if (slow)
            {
                await Task.Delay(3000);
            }

            return [ScriptedUpstream.AnswerA(q.Message, 60)];
        });
        var endPoint = new IPEndPoint(IPAddress.Loopback, Ports.Free());
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartWithFileLimitAsync(512, endPoint, "--upstream", upstream.EndPoint.ToString());
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        for (int i = 0; i < 400; i++)
        {
            await socket.SendToAsync(Wire.Query($"fd{i}.example", id: (ushort)i), SocketFlags.None, endPoint); // more misses than descriptors
        }

        await Task.Delay(4500);
        slow = false;
        Assert.False(daemon.HasExited, daemon.Output);
        Assert.Contains("the open-file limit is 512", daemon.Output, StringComparison.Ordinal);
        IDnsQueryResponse after = await daemon.Client(timeoutMs: 6000).QueryAsync("after.example", QueryType.A);
        Assert.Single(after.Answers.ARecords());
    }

    [Fact]
    public async Task A_config_file_that_disappears_keeps_the_running_config()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        string config = Path.GetTempFileName();
        await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{upstream.EndPoint}}"] }""");
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--config", config);
        File.Delete(config);
        daemon.Signal(1);
        await Eventually.TrueAsync(() => daemon.Output.Contains("not reloaded", StringComparison.Ordinal));
        Assert.Single((await daemon.Client().QueryAsync("kept.example", QueryType.A)).Answers);
        Assert.False(daemon.HasExited);
    }

    [Fact]
    public async Task Garbage_frames_and_resets_on_tcp_hurt_only_their_own_connection() // TC-05, TC-10, TC-12
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());
        var random = new Random(7);

        using (var garbage = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await garbage.ConnectAsync(daemon.EndPoint);
            byte[] junk = new byte[64];
            random.NextBytes(junk);
            junk[2] &= 0x7F; // QR=0 so it is not simply dropped as a response
            byte[] query = Wire.Query("after-garbage.example", id: 0x7777);
            await garbage.SendAsync((byte[])[0, 64, .. junk, 0, (byte)query.Length, .. query], SocketFlags.None);
            byte[] buffer = new byte[4096];
            int total = 0;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            while (!timeout.IsCancellationRequested && !ContainsId(buffer.AsSpan(0, total), 0x7777))
            {
                int read = await garbage.ReceiveAsync(buffer.AsMemory(total), SocketFlags.None, timeout.Token);
                Assert.NotEqual(0, read);
                total += read;
            }
        }

        using (var huge = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await huge.ConnectAsync(daemon.EndPoint);
            byte[] frame = new byte[2 + 65535];
            random.NextBytes(frame);
            frame[0] = 0xFF;
            frame[1] = 0xFF;
            await huge.SendAsync(frame, SocketFlags.None);
        }

        for (int i = 0; i < 20; i++)
        {
            using var reset = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await reset.ConnectAsync(daemon.EndPoint);
            byte[] query = Wire.Query($"reset{i}.example");
            await reset.SendAsync((byte[])[0, (byte)query.Length, .. query], SocketFlags.None);
            reset.LingerState = new LingerOption(true, 0); // close with RST, maybe while the answer is on its way
        }

        Assert.Single((await daemon.Client(tcp: true).QueryAsync("fine.example", QueryType.A)).Answers);
        Assert.False(daemon.HasExited);
        Assert.Equal(0, MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_internal_errors_total"));
    }

    private static bool ContainsId(ReadOnlySpan<byte> stream, ushort id)
    {
        int position = 0;
        while (position + 4 <= stream.Length)
        {
            int length = (stream[position] << 8) | stream[position + 1];
            if (position + 2 + length > stream.Length)
            {
                return false;
            }

            if (length >= 2 && ((stream[position + 2] << 8) | stream[position + 3]) == id)
            {
                return true;
            }

            position += 2 + length;
        }

        return false;
    }
}
