using System.Diagnostics;
using System.Net;
using DnsClient;
using DnsClient.Protocol;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>nodedns in front of a real authoritative server (NSD), queried by DnsClient, dig and glibc.</summary>
public sealed class ForwardingTests(NsdUpstream nsd) : IClassFixture<NsdUpstream>
{
    private Task<NodeDnsProcess> StartAsync() => NodeDnsProcess.StartAsync("--upstream", nsd.EndPoint.ToString());

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task Answers_a_aaaa_and_cname_chains_over_udp_and_tcp(bool tcp, bool ioUring)
    {
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", nsd.EndPoint.ToString(), $"--upstream-io-uring={(ioUring ? "true" : "false")}");
        LookupClient client = daemon.Client(tcp);

        IDnsQueryResponse a = await client.QueryAsync("www.example.test", QueryType.A);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), Assert.Single(a.Answers.ARecords()).Address);

        IDnsQueryResponse aaaa = await client.QueryAsync("www.example.test", QueryType.AAAA);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), Assert.Single(aaaa.Answers.AaaaRecords()).Address);

        IDnsQueryResponse chain = await client.QueryAsync("c1.example.test", QueryType.A);
        Assert.Equal(["c2.example.test.", "www.example.test."], chain.Answers.CnameRecords().Select(r => r.CanonicalName.Value));
        Assert.Equal(IPAddress.Parse("192.0.2.1"), Assert.Single(chain.Answers.ARecords()).Address);
        Assert.Contains($"upstream UDP queries of the listener threads run on {(ioUring ? "io_uring" : "epoll")}", daemon.Output);
    }

    [Fact]
    public async Task Nxdomain_carries_the_soa_with_the_negative_ttl()
    {
        await using NodeDnsProcess daemon = await StartAsync();
        IDnsQueryResponse response = await daemon.Client().QueryAsync("missing.example.test", QueryType.A);

        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, response.Header.ResponseCode);
        SoaRecord soa = Assert.Single(response.Authorities.SoaRecords());
        Assert.InRange(soa.InitialTimeToLive, 1, 30); // min(SOA TTL 30, MINIMUM 60)
        Assert.Empty(response.Answers);
    }

    [Fact]
    public async Task Nodata_is_noerror_with_an_soa_and_no_answers()
    {
        await using NodeDnsProcess daemon = await StartAsync();
        IDnsQueryResponse response = await daemon.Client().QueryAsync("www.example.test", QueryType.MX);

        Assert.Equal(DnsHeaderResponseCode.NoError, response.Header.ResponseCode);
        Assert.Empty(response.Answers);
        Assert.Single(response.Authorities.SoaRecords());
    }

    [Fact]
    public async Task Ttls_count_down_between_cache_hits()
    {
        await using NodeDnsProcess daemon = await StartAsync();
        LookupClient client = daemon.Client();
        var watch = Stopwatch.StartNew();
        int first = Assert.Single((await client.QueryAsync("www.example.test", QueryType.A)).Answers).InitialTimeToLive;
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        int second = Assert.Single((await client.QueryAsync("www.example.test", QueryType.A)).Answers).InitialTimeToLive;
        double elapsed = watch.Elapsed.TotalSeconds;

        Assert.Equal(300, first);
        // Counted down by the whole seconds between the two answers: at least 2, and no more than the time measured
        // around both, however slow the machine is.
        Assert.InRange(second, 300 - (int)Math.Ceiling(elapsed), 298);
    }

    [Fact]
    public async Task Short_ttl_expires_and_is_fetched_again()
    {
        await using NodeDnsProcess daemon = await StartAsync();
        LookupClient client = daemon.Client();
        Assert.Equal(2, Assert.Single((await client.QueryAsync("short.example.test", QueryType.A)).Answers).InitialTimeToLive);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(2, Assert.Single((await client.QueryAsync("short.example.test", QueryType.A)).Answers).InitialTimeToLive);
    }

    [Fact]
    public async Task Large_answer_is_truncated_with_whole_records_over_udp_and_complete_over_tcp()
    {
        await using NodeDnsProcess daemon = await StartAsync();

        string udp = await Dig.RunAsync(daemon.EndPoint, "big.example.test", "TXT", "+noedns", "+ignore");
        Assert.Matches(@"flags: qr tc rd ra;", udp);
        int udpAnswers = int.Parse(System.Text.RegularExpressions.Regex.Match(udp, @"ANSWER: (\d+)").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(udpAnswers, 1, NsdUpstream.BigTxtRecords - 1);
        Assert.Matches(@"MSG SIZE\s+rcvd: ([1-4]\d\d|50\d|51[0-2])\b", udp);

        string tcp = await Dig.RunAsync(daemon.EndPoint, "big.example.test", "TXT", "+tcp");
        Assert.Contains($"ANSWER: {NsdUpstream.BigTxtRecords},", tcp, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"flags:[^;]* tc", tcp);
    }

    [Fact]
    public async Task Letter_case_of_the_question_is_kept()
    {
        await using NodeDnsProcess daemon = await StartAsync();
        await Dig.RunAsync(daemon.EndPoint, "www.example.test"); // cache it in lower case first
        string output = await Dig.RunAsync(daemon.EndPoint, "WwW.ExAmPlE.TeSt");

        Assert.Matches(@";WwW\.ExAmPlE\.TeSt\.\s+IN\s+A", output);
        Assert.Matches(@"WwW\.ExAmPlE\.TeSt\.\s+\d+\s+IN\s+A\s+192\.0\.2\.1", output);
        Assert.Contains("status: NOERROR", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Zones_route_to_their_own_upstreams()
    {
        await using ScriptedUpstream other = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync(
            "--upstream", $"cluster.local={nsd.EndPoint}/tcp", "--upstream", other.EndPoint.ToString());
        LookupClient client = daemon.Client();

        IDnsQueryResponse cluster = await client.QueryAsync("kubernetes.default.svc.cluster.local", QueryType.A);
        Assert.Equal(IPAddress.Parse("10.96.0.1"), Assert.Single(cluster.Answers.ARecords()).Address);
        IDnsQueryResponse outside = await client.QueryAsync("anything.example", QueryType.A);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), Assert.Single(outside.Answers.ARecords()).Address);

        Assert.Equal(0, other.CountFor("kubernetes.default.svc.cluster.local"));
        Assert.Equal(1, other.CountFor("anything.example"));
    }

    [Fact]
    public async Task Glibc_resolves_a_short_service_name_through_the_search_list()
    {
        // glibc always asks port 53, so this test binds 127.0.0.153:53 and bind-mounts /etc/resolv.conf: it needs root.
        var listen = new IPEndPoint(IPAddress.Parse("127.0.0.153"), 53);
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--listen", listen.ToString(), "--upstream", nsd.EndPoint.ToString());
        string resolvConf = Path.GetTempFileName();
        await File.WriteAllTextAsync(resolvConf,
            "nameserver 127.0.0.153\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:1\n");
        try
        {
            ToolResult result = await Tools.RunAsync("unshare", ["-m", "sh", "-c",
                $"mount --bind {resolvConf} /etc/resolv.conf && getent ahostsv4 kubernetes && getent ahostsv4 kube-dns.kube-system"]);
            Assert.True(result.ExitCode == 0, $"getent failed ({result.ExitCode}): {result.Output}{result.Error}");
            Assert.Contains("10.96.0.1", result.Output, StringComparison.Ordinal);
            Assert.Contains("10.96.0.10", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(resolvConf);
        }
    }
}
