using System.Net;
using DnsClient;
using DnsClient.Protocol;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// dnstap (--dnstap) read by the real dnstap reader: client and forwarder messages over a Unix socket and over TCP,
/// the message-type choice, and DNS that goes on unchanged while the reader is absent, goes away and comes back.
/// </summary>
public sealed class DnstapTests(NsdUpstream nsd) : IClassFixture<NsdUpstream>
{
    private static readonly TimeSpan Arrival = TimeSpan.FromSeconds(15); // includes a reconnect after the longest back-off (5 s)

    private static string NewSocketPath() => Path.Combine(Directory.CreateTempSubdirectory("nodedns-dnstap-").FullName, "dnstap.sock");

    /// <summary>A reader on a new Unix socket and nodedns writing dnstap to it, forwarding to NSD.</summary>
    private async Task<ReaderAndDaemon> StartWithReaderAsync(params string[] dnstapOptions)
    {
        string socket = NewSocketPath();
        DnstapReader reader = await DnstapReader.ListenOnUnixSocketAsync(socket);
        NodeDnsProcess daemon = await NodeDnsProcess.StartAsync(["--upstream", nsd.EndPoint.ToString(), "--dnstap", $"unix:{socket}", .. dnstapOptions]);
        return new ReaderAndDaemon(reader, daemon);
    }

    private sealed record ReaderAndDaemon(DnstapReader Reader, NodeDnsProcess Daemon) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await Daemon.DisposeAsync();
            await Reader.DisposeAsync();
        }
    }

    [Fact]
    public async Task Client_and_forwarder_queries_and_responses_reach_a_real_reader_over_a_unix_socket()
    {
        await using ReaderAndDaemon run = await StartWithReaderAsync("--dnstap-identity", "e2e-node");
        (DnstapReader reader, NodeDnsProcess daemon) = run;

        IDnsQueryResponse miss = await daemon.Client().QueryAsync("www.example.test", QueryType.A);
        IDnsQueryResponse hit = await daemon.Client().QueryAsync("www.example.test", QueryType.A);
        IDnsQueryResponse overTcp = await daemon.Client(tcp: true).QueryAsync("c1.example.test", QueryType.A);
        Assert.All((IDnsQueryResponse[])[miss, hit, overTcp], r => Assert.Equal(IPAddress.Parse("192.0.2.1"), r.Answers.ARecords().Single().Address));

        await Eventually.TrueAsync(() => reader.OfType("CLIENT_RESPONSE").Count() >= 3 && reader.OfType("FORWARDER_RESPONSE").Count() >= 2, Arrival);
        Assert.All(reader.Messages, m => Assert.Contains("identity: \"e2e-node\"", m, StringComparison.Ordinal));
        Assert.All(reader.Messages, m => Assert.Contains("version: \"nodedns ", m, StringComparison.Ordinal));

        string[] clientQueries = [.. reader.OfType("CLIENT_QUERY")];
        Assert.Equal(2, clientQueries.Count(m => m.Contains(";www.example.test.\tIN\t A", StringComparison.Ordinal) && m.Contains("socket_protocol: UDP", StringComparison.Ordinal)));
        Assert.Single(clientQueries, m => m.Contains(";c1.example.test.\tIN\t A", StringComparison.Ordinal) && m.Contains("socket_protocol: TCP", StringComparison.Ordinal));
        Assert.All(clientQueries, m => Assert.Contains($"response_port: {daemon.EndPoint.Port}\n", m, StringComparison.Ordinal));
        Assert.All(clientQueries, m => Assert.Contains("query_address: 127.0.0.1\n", m, StringComparison.Ordinal));

        // The hit's answer as the client got it, and the upstream exchange of the miss, with NSD's address.
        Assert.Equal(3, reader.OfType("CLIENT_RESPONSE").Count(m => m.Contains("www.example.test.\t", StringComparison.Ordinal) || m.Contains("c1.example.test.\t", StringComparison.Ordinal)));
        Assert.Contains(reader.OfType("CLIENT_RESPONSE"), m => m.Contains("192.0.2.1", StringComparison.Ordinal));
        Assert.Contains(reader.OfType("FORWARDER_QUERY"), m => m.Contains(";www.example.test.\tIN\t A", StringComparison.Ordinal)
            && m.Contains($"response_port: {nsd.EndPoint.Port}\n", StringComparison.Ordinal));
        Assert.Contains(reader.OfType("FORWARDER_RESPONSE"), m => m.Contains("192.0.2.1", StringComparison.Ordinal)
            && m.Contains("response_address: 127.0.0.1\n", StringComparison.Ordinal));

        string metrics = await daemon.ScrapeAsync();
        Assert.Equal(1, MetricsText.Value(metrics, "nodedns_dnstap_connected"));
        Assert.Equal(reader.Messages.Count, MetricsText.Value(metrics, "nodedns_dnstap_sent_total"));
        Assert.Equal(0, MetricsText.Value(metrics, "nodedns_dnstap_dropped_total"));
    }

    [Fact]
    public async Task Over_tcp_only_the_chosen_message_types_are_written()
    {
        await using DnstapReader reader = await DnstapReader.ListenOnTcpAsync();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", nsd.EndPoint.ToString(), "--dnstap", $"tcp:{reader.TcpEndPoint}",
            "--dnstap-messages", "client-response,forwarder-query");

        for (int i = 0; i < 3; i++)
        {
            Assert.Single((await daemon.Client().QueryAsync("www.example.test", QueryType.AAAA)).Answers.AaaaRecords());
        }

        await Eventually.TrueAsync(() => reader.OfType("CLIENT_RESPONSE").Count() == 3, Arrival);
        Assert.Single(reader.OfType("FORWARDER_QUERY"));
        Assert.Empty(reader.OfType("CLIENT_QUERY"));
        Assert.Empty(reader.OfType("FORWARDER_RESPONSE"));
        Assert.Equal(4, reader.Messages.Count);
    }

    [Fact]
    public async Task Dns_goes_on_while_the_reader_is_absent_and_gone_and_the_writer_reconnects_when_it_is_back()
    {
        string socket = NewSocketPath();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", nsd.EndPoint.ToString(), "--dnstap", $"unix:{socket}",
            "--dnstap-queue", "64");

        // No reader yet: every query is answered, the queue fills and the rest is dropped and counted.
        await AnswerManyAsync(daemon, 150);
        string absent = await daemon.ScrapeAsync();
        Assert.Equal(0, MetricsText.Value(absent, "nodedns_dnstap_connected"));
        Assert.True(MetricsText.Value(absent, "nodedns_dnstap_dropped_total") > 0, absent);
        Assert.True(MetricsText.Value(absent, "nodedns_dnstap_connection_failures_total") > 0, absent);

        DnstapReader first = await DnstapReader.ListenOnUnixSocketAsync(socket);
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_dnstap_connected") == 1, Arrival);
        Assert.Single((await daemon.Client().QueryAsync("c2.example.test", QueryType.A)).Answers.CnameRecords());
        await Eventually.TrueAsync(() => first.OfType("CLIENT_QUERY").Any(m => m.Contains(";c2.example.test.", StringComparison.Ordinal)), Arrival);

        // The reader goes away: DNS is answered as before, and the writer notices and tries again.
        await first.DisposeAsync();
        File.Delete(socket);
        await AnswerManyAsync(daemon, 150);
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_dnstap_connected") == 0, Arrival);

        await using DnstapReader second = await DnstapReader.ListenOnUnixSocketAsync(socket);
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_dnstap_connected") == 1, Arrival);
        Assert.Single((await daemon.Client().QueryAsync("c1.example.test", QueryType.A)).Answers.ARecords());
        await Eventually.TrueAsync(() => second.OfType("CLIENT_RESPONSE").Any(m => m.Contains("c1.example.test.\t", StringComparison.Ordinal)), Arrival);
        Assert.Contains("dnstap: lost the reader", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reader_that_stops_reading_does_not_slow_dns()
    {
        await using ReaderAndDaemon run = await StartWithReaderAsync("--dnstap-queue", "64");
        (DnstapReader reader, NodeDnsProcess daemon) = run;
        Assert.Single((await daemon.Client().QueryAsync("www.example.test", QueryType.A)).Answers.ARecords());
        await Eventually.TrueAsync(() => reader.Messages.Count > 0, Arrival);

        await reader.SignalAsync("STOP"); // connected, but reading nothing
        try
        {
            await AnswerManyAsync(daemon, 3000);
            Assert.True(MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_dnstap_dropped_total") > 0);
        }
        finally
        {
            await reader.SignalAsync("CONT");
        }
    }

    [Theory]
    [InlineData("udp:127.0.0.1:6000", "is not unix:PATH or tcp:IP:PORT")]
    [InlineData("unix:relative.sock", "must be absolute")]
    public async Task A_bad_dnstap_address_is_a_configuration_error(string address, string message)
    {
        ToolResult result = await NodeDnsProcess.RunToExitAsync(["serve", "--listen", "127.0.0.1:5399", "--upstream", "127.0.0.1:53", "--dnstap", address]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    /// <summary>Asks <paramref name="count"/> cached questions; every one must be answered in time.</summary>
    private static async Task AnswerManyAsync(NodeDnsProcess daemon, int count)
    {
        LookupClient client = daemon.Client(); // a 3 s timeout: DNS that waited for dnstap would fail here
        for (int i = 0; i < count; i++)
        {
            IDnsQueryResponse response = await client.QueryAsync("www.example.test", QueryType.A);
            Assert.False(response.HasError, response.ErrorMessage);
        }
    }
}
