using System.Net;
using Microsoft.Extensions.Time.Testing;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Serving;

namespace NodeDns.Core.Tests.Kubernetes;

/// <summary>The search lists kubelet writes into pods' resolv.conf, as NodeDns computes them for autopath.</summary>
public class PodSearchPathsTests
{
    private static readonly string[] Host = ["corp.example", "Cluster.Local"];

    private static PodInfo Pod(string policy, string ip = "10.244.1.5", string ns = "shop", params string[] searches) =>
        new("u-" + ip, ns, "p", [IPAddress.Parse(ip)], policy, searches.Length == 0 ? null : new PodDnsConfig(searches, [], []), HostNetwork: false);

    [Fact]
    public void Cluster_first_is_the_cluster_domains_then_the_nodes_then_the_pods_own_without_repeats()
    {
        var paths = new PodSearchPaths(new NodePods(new FakeTimeProvider()), "cluster.local", Host);
        Assert.Equal(["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example", "extra.example"],
            paths.Domains(Pod("ClusterFirst", searches: ["extra.example", "corp.example."])));
        Assert.Equal(["corp.example", "cluster.local", "mine.example"], paths.Domains(Pod("Default", searches: ["mine.example"])));
        Assert.Equal(["mine.example"], paths.Domains(Pod("None", searches: ["mine.example"])));
        Assert.Empty(paths.Domains(Pod("None")));
    }

    [Fact]
    public void At_most_32_domains_as_kubelet_allows()
    {
        var paths = new PodSearchPaths(new NodePods(new FakeTimeProvider()), "cluster.local", []);
        string[] many = [.. Enumerable.Range(0, 40).Select(i => $"d{i}.example")];
        Assert.Equal(PodSearchPaths.MaxDomains, paths.Domains(Pod("ClusterFirst", searches: many)).Count);
    }

    [Fact]
    public void Pods_with_the_same_list_share_its_number_and_others_get_none()
    {
        var time = new FakeTimeProvider();
        var pods = new NodePods(time);
        pods.ReplaceAll([Pod("ClusterFirst", "10.244.1.5"), Pod("ClusterFirst", "10.244.1.6"), Pod("ClusterFirst", "10.244.1.7", "other"),
            Pod("None", "10.244.1.8")]);
        var paths = new PodSearchPaths(pods, "cluster.local", Host);
        SearchList a = paths.For(ClientAddress.From(IPAddress.Parse("10.244.1.5")))!;
        SearchList b = paths.For(ClientAddress.From(IPAddress.Parse("10.244.1.6")))!;
        SearchList other = paths.For(ClientAddress.From(IPAddress.Parse("10.244.1.7")))!;

        Assert.Equal(a.Id, b.Id);
        Assert.NotEqual(a.Id, other.Id);
        Assert.Equal(Wire.Name("shop.svc.cluster.local"), a.Domains[0]);
        Assert.Null(paths.For(ClientAddress.From(IPAddress.Parse("10.244.1.8")))); // dnsPolicy None without searches
        Assert.Null(paths.For(ClientAddress.From(IPAddress.Parse("10.9.9.9")))); // not a pod of this node
    }

    [Fact]
    public void The_nodes_search_domains_come_from_its_resolv_conf()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, "nameserver 10.0.0.2\nsearch old.example\nsearch corp.example lab.example\noptions ndots:2\n");
        try
        {
            Assert.Equal(["corp.example", "lab.example"], PodSearchPaths.HostSearch(file));
            Assert.Empty(PodSearchPaths.HostSearch(file + ".missing"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
