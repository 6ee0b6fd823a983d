using DnsClient;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>The published binary watching a scripted Kubernetes API server; DNS never waits for the API.</summary>
public sealed class PodWatchTests : IAsyncDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nodedns-podwatch-").FullName;

    [Fact]
    public async Task Watches_the_pods_of_its_node_and_says_so_in_metrics()
    {
        await using var api = new ScriptedApiServer();
        api.Pods.Add(ScriptedApiServer.Pod("web-1", "shop", "u1", "10.244.1.5", "90"));
        api.Pods.Add(ScriptedApiServer.Pod("agent", "kube-system", "u2", "192.168.0.9", "91", hostNetwork: true));
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--kubeconfig", api.Kubeconfig(_dir), "--node-name", "node-a");

        Assert.Single((await daemon.Client().QueryAsync("first.example", QueryType.A)).Answers); // served before any list
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_pods") == 2, TimeSpan.FromSeconds(20));
        api.Push("ADDED", ScriptedApiServer.Pod("api-1", "shop", "u3", "10.244.1.6", "101"));
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_pods") == 3);

        string metrics = await daemon.ScrapeAsync();
        Assert.Equal(1, MetricsText.Value(metrics, "nodedns_pod_watch_connected"));
        Assert.True(MetricsText.Value(metrics, "nodedns_pod_watch_last_sync_timestamp_seconds") > 1.7e9);
        Assert.Contains(api.Requests, r => r.Contains("fieldSelector=spec.nodeName%3Dnode-a", StringComparison.Ordinal) && r.Contains("resourceVersion=0", StringComparison.Ordinal));
        Assert.Contains("pod watch: listed 2 pods on node node-a", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Queries_of_a_pod_of_the_node_are_counted_under_its_namespace()
    {
        await using var api = new ScriptedApiServer();
        api.Pods.Add(ScriptedApiServer.Pod("tester", "qa", "u1", "127.0.0.1", "90")); // the tests' own address plays the pod
        await using ScriptedUpstream upstream = new(q => Task.FromResult<IReadOnlyList<byte[]>>(
            [q.Name.StartsWith("nx", StringComparison.Ordinal) ? ScriptedUpstream.Reply(q.Message, 3, 0, []) : ScriptedUpstream.AnswerA(q.Message, 60)]));
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--kubeconfig", api.Kubeconfig(_dir), "--node-name", "node-a");
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_pods") == 1, TimeSpan.FromSeconds(20));

        LookupClient client = daemon.Client();
        await client.QueryAsync("a.example", QueryType.A);
        await client.QueryAsync("a.example", QueryType.A);
        await client.QueryAsync("nx.example", QueryType.A);

        string metrics = await daemon.ScrapeAsync();
        Assert.Equal(3, MetricsText.Value(metrics, "nodedns_namespace_queries_total", "namespace=qa"));
        Assert.Equal(1, MetricsText.Value(metrics, "nodedns_namespace_nxdomain_total", "namespace=qa"));
        Assert.Equal(2, MetricsText.Value(metrics, "nodedns_namespace_cache_misses_total", "namespace=qa"));
    }

    [Fact]
    public async Task Nodedns_top_shows_the_pod_and_the_names_it_asks_for()
    {
        await using var api = new ScriptedApiServer();
        api.Pods.Add(ScriptedApiServer.Pod("tester", "qa", "u1", "127.0.0.1", "90"));
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--kubeconfig", api.Kubeconfig(_dir), "--node-name", "node-a", "--top-sample", "1");
        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_pods") == 1, TimeSpan.FromSeconds(20));
        LookupClient client = daemon.Client();
        for (int i = 0; i < 3; i++)
        {
            await client.QueryAsync("hot.example", QueryType.A);
        }

        ToolResult top = await NodeDnsProcess.RunToExitAsync(["top", "--once", $"--metrics=127.0.0.1:{daemon.MetricsPort}"]);

        Assert.True(top.ExitCode == 0, top.Output + top.Error);
        Assert.Matches(@"qa/tester\s+3\s+0\s+1", top.Output);
        Assert.Matches(@"hot\.example\.\s+3\s+0", top.Output);
        Assert.Contains("\"pod\": \"tester\"", await daemon.ScrapeAsync("/debug/top"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nodedns_top_says_why_when_there_is_no_view()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--pod-watch", "off");

        ToolResult top = await NodeDnsProcess.RunToExitAsync(["top", "--once", "--metrics", $"127.0.0.1:{daemon.MetricsPort}"]);
        Assert.Equal(1, top.ExitCode);
        Assert.Contains("needs the pod watch", top.Error, StringComparison.Ordinal);

        ToolResult nobody = await NodeDnsProcess.RunToExitAsync(["top", "--once", "--metrics", $"127.0.0.1:{Ports.Free()}"]);
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("cannot read", nobody.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serves_dns_with_the_api_server_unreachable()
    {
        await using var api = new ScriptedApiServer();
        string down = Path.Combine(_dir, "down"); // points at a port where nothing listens
        await File.WriteAllTextAsync(down, (await File.ReadAllTextAsync(api.Kubeconfig(_dir))).Replace($":{api.Port}", $":{Ports.Free()}", StringComparison.Ordinal));
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--kubeconfig", down, "--node-name", "node-a");

        await Eventually.TrueAsync(async () => MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_errors_total") >= 1, TimeSpan.FromSeconds(20));
        Assert.Single((await daemon.Client().QueryAsync("still.example", QueryType.A)).Answers);
        Assert.Equal(0, MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_pod_watch_connected"));
        Assert.Contains("pod watch failed", daemon.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_kubeconfig_is_a_warning_and_dns_is_served()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(),
            "--kubeconfig", Path.Combine(_dir, "absent"), "--node-name", "node-a");

        Assert.Single((await daemon.Client().QueryAsync("fine.example", QueryType.A)).Answers);
        Assert.Contains("serving without the pod watch", daemon.Output, StringComparison.Ordinal);
    }

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return ValueTask.CompletedTask;
    }
}
