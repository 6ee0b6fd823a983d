using System.Diagnostics;
using System.Net;
using DnsClient;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>Metrics, readiness, lameduck, reload and the self-check verbs, against the real binary.</summary>
public sealed class ObservabilityTests
{
    private static IReadOnlyList<byte[]> Replies(params byte[][] replies) => replies;

    private static ScriptedUpstream Answering(byte last) =>
        new(q => Task.FromResult(Replies(q.Name.StartsWith("nx", StringComparison.Ordinal)
            ? ScriptedUpstream.Reply(q.Message, 3, 0, new Wire().Record("example", 6, 60, Wire.Soa("ns.example", "h.example", 60)).ToArray(), authority: 1)
            : ScriptedUpstream.AnswerA(q.Message, 300, last))));

    [Fact]
    public async Task Metrics_move_with_traffic_by_label()
    {
        await using ScriptedUpstream upstream = Answering(1);
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--upstream", $"cluster.local={upstream.EndPoint}");
        string server = $"server=dns://{daemon.EndPoint}";
        await daemon.Client().QueryAsync("a.example", QueryType.A);
        await daemon.Client().QueryAsync("a.example", QueryType.A);
        await daemon.Client(tcp: true).QueryAsync("svc.cluster.local", QueryType.AAAA);
        await daemon.Client().QueryAsync("nx.example", QueryType.TXT);

        string metrics = await daemon.ScrapeAsync();
        Assert.Equal(2, MetricsText.Value(metrics, "coredns_dns_requests_total", server, "zone=.", "proto=udp", "family=1", "type=A"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_requests_total", server, "zone=cluster.local.", "proto=tcp", "type=AAAA"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_requests_total", server, "zone=.", "type=TXT"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_responses_total", server, "zone=.", "rcode=NOERROR", "plugin=cache"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_responses_total", server, "zone=.", "rcode=NOERROR", "plugin=forward"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_responses_total", server, "zone=.", "rcode=NXDOMAIN"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_cache_hits_total", "type=success"));
        Assert.Equal(3, MetricsText.Value(metrics, "coredns_cache_misses_total"));
        Assert.Equal(4, MetricsText.Value(metrics, "coredns_cache_requests_total"));
        Assert.Equal(2, MetricsText.Value(metrics, "coredns_dns_request_duration_seconds_count", server, "zone=.", "type=A"));
        Assert.Equal(3, MetricsText.Value(metrics, "coredns_proxy_request_duration_seconds_count", "proxy_name=forward", $"to={upstream.EndPoint}"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_cache_entries", "type=denial"));
        Assert.Equal(1, MetricsText.Value(metrics, "nodedns_upstream_healthy", "zone=.", $"to={upstream.EndPoint}"));
        Assert.Equal(0, MetricsText.Value(metrics, "coredns_nodecache_setup_errors_total", "errortype=iptables"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_build_info"));
    }

    [Fact]
    public async Task Every_garbage_collection_pause_lands_in_the_pause_histogram()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--cache-size", "200000");
        LookupClient client = daemon.Client();

        // Unique names: each miss allocates, so collections follow. Bounded: at most 40,000 questions, 50 at a time.
        string metrics = await daemon.ScrapeAsync();
        double allocatedBefore = MetricsText.Value(metrics, "nodedns_gc_allocated_bytes_total");
        for (int batch = 0; batch < 800 && MetricsText.Value(metrics, "nodedns_gc_pause_duration_seconds_count") < 3; batch++)
        {
            await Task.WhenAll(Enumerable.Range(0, 50).Select(i => client.QueryAsync($"gc{batch}-{i}.example", QueryType.A)));
            if (batch % 20 == 19)
            {
                metrics = await daemon.ScrapeAsync();
            }
        }

        double pauses = MetricsText.Value(metrics, "nodedns_gc_pause_duration_seconds_count");
        Assert.True(pauses >= 3, metrics);
        double observed = MetricsText.Value(metrics, "nodedns_gc_pause_duration_seconds_sum");
        double total = MetricsText.Value(metrics, "nodedns_gc_pause_seconds_total");
        Assert.InRange(observed, 1e-6, total + 1e-3); // what the histogram saw is part of all the pausing the GC reports
        Assert.True(MetricsText.Value(metrics, "nodedns_gc_collections_unseen_total") < pauses, metrics);
        Assert.True(MetricsText.Value(metrics, "nodedns_gc_allocated_bytes_total") > allocatedBefore, metrics); // the misses allocated
    }

    [Fact]
    public async Task Lameduck_says_not_ready_at_once_keeps_answering_then_exits_0()
    {
        await using ScriptedUpstream upstream = Answering(1);
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--lameduck", "2s");
        Assert.Equal("ready\n", await daemon.ScrapeAsync("/ready"));

        var watch = Stopwatch.StartNew();
        daemon.Signal(15);
        using var http = new HttpClient();
        HttpResponseMessage ready;
        do
        {
            ready = await http.GetAsync(new Uri($"http://127.0.0.1:{daemon.MetricsPort}/ready"));
        }
        while (ready.StatusCode == HttpStatusCode.OK && watch.Elapsed < TimeSpan.FromSeconds(5));

        // 503 while the process still serves (it exits only after the 2 s lameduck): load balancers see it first.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.False(daemon.HasExited, "/ready turned 503 only when the daemon was gone");
        Assert.Equal("OK\n", await daemon.ScrapeAsync("/health"));
        await Task.Delay(1000);
        IDnsQueryResponse during = await daemon.Client().QueryAsync("during-lameduck.example", QueryType.A);
        Assert.Single(during.Answers.ARecords());

        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(8)), "did not exit after the lameduck period");
        Assert.Equal(0, daemon.ExitCode);
        Assert.True(watch.Elapsed.TotalSeconds >= 1.9, $"exited after {watch.Elapsed}, before the lameduck period ended");
    }

    [Fact]
    public async Task Reload_on_sighup_applies_a_new_upstream_without_losing_a_query()
    {
        await using ScriptedUpstream first = Answering(1);
        await using ScriptedUpstream second = Answering(2);
        string config = Path.GetTempFileName();
        await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{first.EndPoint}}"] }""");
        try
        {
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--config", config);
            var answers = new List<IPAddress?>();
            LookupClient client = daemon.Client();
            // Queries keep going through the reload: 50 before SIGHUP, then on until it was applied, then 50 more.
            int until = int.MaxValue;
            for (int i = 0; i < until && i < 3000; i++)
            {
                if (i == 50)
                {
                    await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{second.EndPoint}}"] }""");
                    daemon.Signal(1); // SIGHUP
                }

                if (i > 50 && until == int.MaxValue && daemon.Output.Contains("configuration reloaded", StringComparison.Ordinal))
                {
                    until = i + 50;
                }

                IDnsQueryResponse response = await client.QueryAsync($"q{i}.example", QueryType.A);
                answers.Add(response.Answers.ARecords().SingleOrDefault()?.Address);
                await Task.Delay(10);
            }

            Assert.DoesNotContain(null, answers);
            Assert.Equal(IPAddress.Parse("192.0.2.1"), answers[0]);
            Assert.Equal(IPAddress.Parse("192.0.2.2"), answers[^1]);
            Assert.True(MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_reloads_total", "result=success") >= 1);
            Assert.Contains("configuration reloaded", daemon.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_changed_config_file_is_reloaded_and_an_invalid_one_keeps_the_old_config()
    {
        await using ScriptedUpstream first = Answering(1);
        await using ScriptedUpstream second = Answering(2);
        string config = Path.GetTempFileName();
        await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{first.EndPoint}}"] }""");
        try
        {
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--config", config);
            await File.WriteAllTextAsync(config, """{ "upstream": ["not-an-address"] }""");
            await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "coredns_reload_failed_total") >= 1);
            IDnsQueryResponse kept = await daemon.Client().QueryAsync("kept.example", QueryType.A);
            Assert.Equal(IPAddress.Parse("192.0.2.1"), Assert.Single(kept.Answers.ARecords()).Address);
            Assert.Contains("not reloaded", daemon.Output, StringComparison.Ordinal);

            await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{second.EndPoint}}"] }""");
            await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_reloads_total", "result=success") >= 1);
            IDnsQueryResponse changed = await daemon.Client().QueryAsync("changed.example", QueryType.A);
            Assert.Equal(IPAddress.Parse("192.0.2.2"), Assert.Single(changed.Answers.ARecords()).Address);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task A_reload_narrows_the_allow_list_and_names_what_needs_a_restart()
    {
        await using ScriptedUpstream upstream = Answering(3);
        string config = Path.GetTempFileName();
        await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{upstream.EndPoint}}"], "allow": ["127.0.0.0/8"], "udpSockets": 1 }""");
        try
        {
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--config", config);
            IDnsQueryResponse before = await daemon.Client().QueryAsync("before.example", QueryType.A);
            Assert.Equal(DnsHeaderResponseCode.NoError, before.Header.ResponseCode);

            await File.WriteAllTextAsync(config, $$"""{ "upstream": ["{{upstream.EndPoint}}"], "allow": ["10.0.0.0/8"], "udpSockets": 2 }""");
            await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_reloads_total", "result=partial") >= 1);

            IDnsQueryResponse after = await daemon.Client().QueryAsync("before.example", QueryType.A); // cached, and still refused
            Assert.Equal(DnsHeaderResponseCode.Refused, after.Header.ResponseCode);
            string metrics = await daemon.ScrapeAsync();
            Assert.Equal(1, MetricsText.Value(metrics, "nodedns_reload_restart_pending", "option=udp-sockets"));
            Assert.Equal(0, MetricsText.Value(metrics, "nodedns_reload_restart_pending", "option=allow"));
            Assert.Contains("applied --allow", daemon.Output, StringComparison.Ordinal);
            Assert.Contains("until a restart: --udp-sockets", daemon.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

    [Fact]
    public async Task Query_verb_prints_the_answer_and_exits_0_or_1()
    {
        await using ScriptedUpstream upstream = Answering(7);
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString());

        ToolResult ok = await NodeDnsProcess.RunToExitAsync(["query", "probe.example", "A", "--server", daemon.EndPoint.ToString()]);
        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("status: NOERROR", ok.Output, StringComparison.Ordinal);
        Assert.Matches(@"probe\.example\.\s+\d+\s+IN\s+A\s+192\.0\.2\.7", ok.Output);

        ToolResult tcp = await NodeDnsProcess.RunToExitAsync(["query", "nx.example", "--server", daemon.EndPoint.ToString(), "--tcp"]);
        Assert.Equal(0, tcp.ExitCode);
        Assert.Contains("status: NXDOMAIN", tcp.Output, StringComparison.Ordinal);
        Assert.Contains("(tcp)", tcp.Output, StringComparison.Ordinal);

        ToolResult dead = await NodeDnsProcess.RunToExitAsync(["query", "x.example", "--server", $"127.0.0.1:{Ports.Free()}", "--timeout", "300ms"]);
        Assert.Equal(1, dead.ExitCode);
        Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["query"])).ExitCode);
    }

    [Fact]
    public async Task Check_config_validates_without_starting()
    {
        string config = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(config, """{ "listen": ["127.0.0.1:5353"], "upstream": ["10.0.0.1", "cluster.local=10.96.0.10/tcp"] }""");
            ToolResult valid = await NodeDnsProcess.RunToExitAsync(["check-config", config]);
            Assert.Equal(0, valid.ExitCode);
            Assert.Contains("valid", valid.Output, StringComparison.Ordinal);

            // --show: the effective value of every option, serve's options after the file taking precedence over it.
            ToolResult shown = await NodeDnsProcess.RunToExitAsync(["check-config", config, "--show", "--cache-size", "777", "--serve-stale-prefer-positive"]);
            Assert.Equal(0, shown.ExitCode);
            string[] lines = shown.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("--listen=127.0.0.1:5353", lines);
            Assert.Contains("--cache-size=777", lines);
            Assert.Contains("--serve-stale-prefer-positive=true", lines);
            Assert.Contains("--upstream=10.0.0.1:53,cluster.local.=10.96.0.10:53/tcp", lines);
            Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["check-config", config, "--config", config])).ExitCode);
            Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["check-config", config, "--no-such-option", "1"])).ExitCode);

            await File.WriteAllTextAsync(config, """{ "cacheSize": "many", "upstream": ["10.0.0.1"] }""");
            ToolResult invalid = await NodeDnsProcess.RunToExitAsync(["check-config", config]);
            Assert.Equal(2, invalid.ExitCode);
            Assert.Contains("key 'cacheSize': invalid value 'many'", invalid.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(config);
        }
    }

}
