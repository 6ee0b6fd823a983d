using System.Diagnostics;
using System.Net;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// Node-local autopath end to end: glibc in a pod-like resolv.conf (<c>search qa.svc.cluster.local svc.cluster.local
/// cluster.local</c>, <c>ndots:5</c>) resolves an external name through the published binary, which knows the client
/// (127.0.0.1) as the pod <c>qa/tester</c> from a scripted API server. glibc binds no port but 53, so the daemon listens
/// on 127.0.0.154:53 and /etc/resolv.conf is bind-mounted in a private mount namespace: root only, as CI runs.
/// </summary>
public sealed class AutopathTests(Xunit.Abstractions.ITestOutputHelper log) : IAsyncDisposable
{
    private static readonly IPEndPoint Listen = new(IPAddress.Parse("127.0.0.154"), 53);
    private readonly string _dir = Directory.CreateTempSubdirectory("nodedns-autopath-").FullName;

    /// <summary>
    /// An upstream that adds 1 ms per query: cluster names do not exist (the root's SOA), everything else has an A record
    /// and no AAAA (NODATA), as api.github.com really has.
    /// </summary>
    private static ScriptedUpstream Upstream() => new(async q =>
    {
        await Task.Delay(1);
        byte[] soa = new Wire().Record(".", 6, 60, Wire.Soa("a.root-servers.net", "host.example", 60)).ToArray();
        return q.Name.EndsWith("cluster.local", StringComparison.OrdinalIgnoreCase) ? [ScriptedUpstream.Reply(q.Message, 3, 0, soa, authority: 1)]
            : q.Type == 28 ? [ScriptedUpstream.Reply(q.Message, 0, 0, soa, authority: 1)]
            : [ScriptedUpstream.AnswerA(q.Message, 300, last: 42)];
    });

    private async Task<(string Output, double Queries, TimeSpan Took, string Metrics)> ResolveAsync(string autopath)
    {
        await using var api = new ScriptedApiServer();
        api.Pods.Add(ScriptedApiServer.Pod("tester", "qa", "u1", "127.0.0.1", "90"));
        await using ScriptedUpstream upstream = Upstream();
        string hostResolvConf = Path.Combine(_dir, "host-resolv.conf");
        await File.WriteAllTextAsync(hostResolvConf, "nameserver 127.0.0.1\n");
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--listen", Listen.ToString(), "--upstream", upstream.EndPoint.ToString(),
            "--kubeconfig", api.Kubeconfig(_dir), "--node-name", "node-a", "--host-resolv-conf", hostResolvConf, "--autopath", autopath);
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_pods") == 1, TimeSpan.FromSeconds(20));

        string resolvConf = Path.Combine(_dir, "resolv.conf");
        await File.WriteAllTextAsync(resolvConf,
            $"nameserver {Listen.Address}\nsearch qa.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:1\n");
        var watch = Stopwatch.StartNew();
        ToolResult result = await Tools.RunAsync("unshare", ["-m", "sh", "-c", $"mount --bind {resolvConf} /etc/resolv.conf && getent ahosts api.github.com"]);
        watch.Stop();
        Assert.True(result.ExitCode == 0, $"getent failed ({result.ExitCode}): {result.Output}{result.Error}");
        string metrics = await daemon.ScrapeAsync();
        double queries = MetricsText.Value(metrics, "coredns_dns_requests_total");
        log.WriteLine($"autopath {autopath}: {queries} queries, first lookup {watch.Elapsed.TotalMilliseconds:0.0} ms (getent process included)");
        return (result.Output, queries, watch.Elapsed, metrics);
    }

    [Fact]
    public async Task A_pod_resolving_an_external_name_sends_two_queries_instead_of_eight()
    {
        (string output, double queries, _, string metrics) = await ResolveAsync("on");
        Assert.Contains("192.0.2.42", output, StringComparison.Ordinal);
        Assert.Contains("api.github.com", output, StringComparison.Ordinal); // glibc took the CNAME's target as the canonical name
        Assert.Equal(2, queries); // A and AAAA of the first expansion; the A answer (a CNAME for the whole list) ends glibc's walk
        Assert.Equal(1, MetricsText.Value(metrics, "nodedns_autopath_answers_total"));
        Assert.Equal(3, MetricsText.Value(metrics, "nodedns_autopath_expansions_saved_total"));

        (string plainOutput, double plainQueries, _, string plainMetrics) = await ResolveAsync("off");
        Assert.Contains("192.0.2.42", plainOutput, StringComparison.Ordinal);
        Assert.Equal(8, plainQueries); // A and AAAA for three expansions, each NXDOMAIN, then for the name itself
        Assert.Equal(0, MetricsText.Value(plainMetrics, "nodedns_autopath_answers_total"));
    }

    [Theory]
    [InlineData("127.0.0.2", "ClusterFirst")] // the client (127.0.0.1) is not the pod
    [InlineData("127.0.0.1", "None")] // the pod's own search list does not start with qa.svc.cluster.local
    public async Task An_unknown_client_and_a_pod_with_its_own_dns_config_get_nxdomain_for_an_expansion(string podIp, string dnsPolicy)
    {
        await using var api = new ScriptedApiServer();
        api.Pods.Add(ScriptedApiServer.Pod("tester", "qa", "u1", podIp, "90", dnsPolicy: dnsPolicy));
        await using ScriptedUpstream upstream = Upstream();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--kubeconfig", api.Kubeconfig(_dir), "--node-name", "node-a", "--host-resolv-conf", Path.Combine(_dir, "none"));
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_pods") == 1, TimeSpan.FromSeconds(20));

        DnsClient.IDnsQueryResponse response = await daemon.Client().QueryAsync("api.github.com.qa.svc.cluster.local", DnsClient.QueryType.A);

        Assert.Equal(DnsClient.DnsHeaderResponseCode.NotExistentDomain, response.Header.ResponseCode);
        Assert.Empty(response.Answers);
        Assert.Equal(0, MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_autopath_answers_total"));
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }
}
