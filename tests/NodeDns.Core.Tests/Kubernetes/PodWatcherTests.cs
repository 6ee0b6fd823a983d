using System.Net;
using System.Web;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Serving;

namespace NodeDns.Core.Tests.Kubernetes;

/// <summary>The pod watch (kubeconfig loaded by the official client, KubernetesClient.Aot) against a scripted API server.</summary>
public sealed class PodWatcherTests : IAsyncDisposable
{
    private static readonly PodWatchTiming Fast = new()
    {
        StartJitter = TimeSpan.Zero, FirstBackOff = TimeSpan.FromMilliseconds(50), MaxBackOff = TimeSpan.FromMilliseconds(200),
        WatchDuration = TimeSpan.FromSeconds(30),
    };

    private readonly ScriptedApiServer _api = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("nodedns-k8s-").FullName;
    private readonly NodePods _pods = new(TimeProvider.System);
    private readonly PodWatchState _state = new();
    private PodWatcher? _watcher;

    private static ClientAddress At(string ip) => ClientAddress.From(IPAddress.Parse(ip));

    private async Task StartAsync(string kubeconfig)
    {
        var api = new KubernetesApi(KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig));
        _watcher = new PodWatcher(api, "node-a", _pods, _state, Fast, TimeProvider.System, NullLogger<PodWatcher>.Instance);
        await _watcher.StartAsync(CancellationToken.None);
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 250 && !condition(); i++)
        {
            await Task.Delay(20);
        }

        Assert.True(condition(), what);
    }

    [Fact]
    public async Task Lists_from_the_watch_cache_then_follows_the_watch_of_this_node()
    {
        _api.Pods.Add(ScriptedApiServer.Pod("web-1", "shop", "u1", "10.244.1.5", "90"));
        _api.Pods.Add(ScriptedApiServer.Pod("agent", "kube-system", "u2", "192.168.0.9", "91", hostNetwork: true));
        await StartAsync(_api.Kubeconfig(_dir));

        await UntilAsync(() => _pods.Find(At("10.244.1.5")) is not null, "the listed pod is known");
        PodInfo web = _pods.Find(At("10.244.1.5"))!;
        Assert.Equal(("shop", "web-1", "ClusterFirst"), (web.Namespace, web.Name, web.DnsPolicy));
        Assert.Equal(["extra.example"], web.DnsConfig!.Searches);
        Assert.Equal(["ndots:2"], web.DnsConfig.Options);
        Assert.Null(_pods.Find(At("192.168.0.9"))); // host network: the node's address, never a pod's
        Assert.Equal(2, _pods.Count);

        string list = _api.Requests.First();
        Assert.Contains("resourceVersion=0", list, StringComparison.Ordinal);
        Assert.Equal("spec.nodeName=node-a", HttpUtility.ParseQueryString(new Uri("http://x" + list).Query)["fieldSelector"]);

        _api.Push("ADDED", ScriptedApiServer.Pod("api-1", "shop", "u3", "10.244.1.6", "101", ipv6: "fd00::6"));
        _api.Push("MODIFIED", ScriptedApiServer.Pod("web-1", "shop", "u1", "10.244.1.7", "102"));
        _api.Push("DELETED", ScriptedApiServer.Pod("agent", "kube-system", "u2", "192.168.0.9", "103", hostNetwork: true));
        _api.PushBookmark("150");
        await UntilAsync(() => _pods.Find(At("10.244.1.7")) is not null && _pods.Count == 2 && _state.Events >= 4, "the events are applied");
        Assert.Null(_pods.Find(At("10.244.1.5"))); // the pod's old address
        Assert.Equal("api-1", _pods.Find(At("fd00::6"))!.Name); // dual stack: both addresses

        string watch = _api.Requests.ElementAt(1);
        var parameters = HttpUtility.ParseQueryString(new Uri("http://x" + watch).Query);
        Assert.Equal(("true", "true", "100", "spec.nodeName=node-a"),
            (parameters["watch"], parameters["allowWatchBookmarks"], parameters["resourceVersion"], parameters["fieldSelector"]));

        _api.EndWatch(); // the server's timeout: resume from the bookmark, no new list
        await UntilAsync(() => _api.Requests.Count >= 3, "the watch is resumed");
        Assert.Equal("150", HttpUtility.ParseQueryString(new Uri("http://x" + _api.Requests.ElementAt(2)).Query)["resourceVersion"]);
        Assert.Equal(0, _state.Relists);
    }

    [Fact]
    public async Task Gone_means_a_new_list_whether_it_comes_as_an_event_or_as_http_410()
    {
        _api.Pods.Add(ScriptedApiServer.Pod("web-1", "shop", "u1", "10.244.1.5", "90"));
        await StartAsync(_api.Kubeconfig(_dir));
        await UntilAsync(() => _pods.Count == 1, "listed");

        _api.Pods.Clear();
        _api.Pods.Add(ScriptedApiServer.Pod("web-2", "shop", "u9", "10.244.1.9", "300"));
        _api.PushGone();
        await UntilAsync(() => _pods.Find(At("10.244.1.9")) is not null, "listed again after the ERROR 410 event");
        Assert.Null(_pods.Find(At("10.244.1.5")));
        Assert.Equal(1, _state.Relists);

        _api.NextWatchGone = true;
        _api.EndWatch();
        await UntilAsync(() => _state.Relists == 2, $"listed again after HTTP 410 (errors {_state.Errors}, relists {_state.Relists}, requests {string.Join(" ", _api.Requests)})");
        Assert.Equal(0, _state.Errors);
    }

    [Fact]
    public async Task An_unreachable_api_server_is_retried_with_back_off_and_nothing_is_known_meanwhile()
    {
        int nobody = NodeDns.EndToEnd.Support.Ports.Free(); // nothing listens there
        string down = Path.Combine(_dir, "down");
        File.WriteAllText(down, File.ReadAllText(_api.Kubeconfig(_dir)).Replace($":{_api.Port}", $":{nobody}", StringComparison.Ordinal));
        await StartAsync(down);

        await UntilAsync(() => _state.Errors >= 2, "failures are counted and retried");
        Assert.False(_state.Connected);
        Assert.Equal(0, _pods.Count);
        Assert.Null(_pods.LastSync);
    }

    public async ValueTask DisposeAsync()
    {
        if (_watcher is not null)
        {
            await _watcher.StopAsync(CancellationToken.None);
            _watcher.Dispose();
        }

        await _api.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}
