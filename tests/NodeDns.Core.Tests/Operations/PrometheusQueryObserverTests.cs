using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;
using NodeDns.Caching;
using NodeDns.Daemon.Operations;
using NodeDns.Forwarding;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests.Operations;

/// <summary>The metrics observer in process: what it counts shows in CoreDNS's series, with CoreDNS's labels.</summary>
public class PrometheusQueryObserverTests
{
    private static double Sample(string text, string name, params string[] labels)
    {
        double sum = 0;
        foreach (string line in text.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal)))
        {
            if (labels.All(l => line.Contains(l, StringComparison.Ordinal)))
            {
                sum += double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    [Fact]
    public async Task Answers_are_counted_by_zone_protocol_family_type_rcode_and_source()
    {
        var metrics = new DnsMetrics();
        var time = new FakeTimeProvider();
        var observer = new PrometheusQueryObserver(metrics, [new IPEndPoint(IPAddress.Loopback, 53)], time);
        var pool = new UpstreamPool([new UpstreamServer(new IPEndPoint(IPAddress.Loopback, 5300), UpstreamTransport.Udp)], UpstreamPolicy.Random);
        var cluster = new ZoneRoute(Wire.Name("cluster.local"), pool, TtlPolicy.Default);
        var udp4 = new ClientContext(0, OverTcp: false, Ipv6: false);
        var tcp6 = new ClientContext(0, OverTcp: true, Ipv6: true);

        long received = time.GetTimestamp();
        time.Advance(TimeSpan.FromMilliseconds(3));
        observer.Answered(udp4, cluster.Id, Wire.Name("a.example"), DnsType.A, DnsRcode.NoError, AnswerSource.Cache, received);
        observer.Answered(udp4, cluster.Id, Wire.Name("a.example"), DnsType.A, DnsRcode.NxDomain, AnswerSource.Forward, received);
        observer.Answered(tcp6, cluster.Id, Wire.Name("a.example"), DnsType.AAAA, DnsRcode.NoError, AnswerSource.Forward, received);
        observer.Answered(udp4, ZoneId.Root, Wire.Name("a.example"), 999, DnsRcode.FormErr, AnswerSource.Error, received);

        string text = Encoding.UTF8.GetString(await metrics.ScrapeAsync(CancellationToken.None));
        const string Server = "server=\"dns://127.0.0.1:53\"";
        Assert.Equal(2, Sample(text, "coredns_dns_requests_total", Server, "zone=\"cluster.local.\"", "proto=\"udp\"", "family=\"1\"", "type=\"A\""));
        Assert.Equal(1, Sample(text, "coredns_dns_requests_total", "zone=\"cluster.local.\"", "proto=\"tcp\"", "family=\"2\"", "type=\"AAAA\""));
        Assert.Equal(1, Sample(text, "coredns_dns_requests_total", "zone=\".\"", "type=\"other\""));
        Assert.Equal(1, Sample(text, "coredns_dns_responses_total", "zone=\"cluster.local.\"", "rcode=\"NXDOMAIN\""));
        Assert.Equal(2, Sample(text, "coredns_dns_responses_total", "zone=\"cluster.local.\"", "rcode=\"NOERROR\""));
        Assert.Equal(1, Sample(text, "coredns_dns_responses_total", "zone=\".\"", "rcode=\"FORMERR\""));
        Assert.Equal(3, Sample(text, "coredns_dns_request_duration_seconds_count", "zone=\"cluster.local.\""));
        Assert.Equal(2, Sample(text, "coredns_dns_request_duration_seconds_bucket", "zone=\"cluster.local.\"", "type=\"A\"", "le=\"0.004\""));
        Assert.Matches(new Regex("coredns_dns_responses_total\\{[^}]*plugin=\"cache\"[^}]*\\} 1"), text);
    }

    [Fact]
    public async Task Queries_of_known_pods_are_counted_by_namespace_and_nobody_else()
    {
        var metrics = new DnsMetrics();
        var time = new FakeTimeProvider();
        var pods = new NodeDns.Daemon.Kubernetes.NodePods(time);
        pods.ReplaceAll(
        [
            new NodeDns.Daemon.Kubernetes.PodInfo("u1", "shop", "web-1", [IPAddress.Parse("10.244.1.5")], "ClusterFirst", null, HostNetwork: false),
            new NodeDns.Daemon.Kubernetes.PodInfo("u2", "kube-system", "agent", [IPAddress.Parse("192.168.0.9")], "ClusterFirst", null, HostNetwork: true),
        ]);
        var observer = new PrometheusQueryObserver(metrics, [new IPEndPoint(IPAddress.Loopback, 53)], time, new PodInsight(metrics, pods, new TopTalkers(time, TimeSpan.FromMinutes(1), sampleEvery: 1), new NodeDns.Daemon.Kubernetes.PodSearchPaths(pods, "cluster.local", [])));
        ClientContext From(string ip) => new(0, OverTcp: false, Ipv6: false) { Address = ClientAddress.From(IPAddress.Parse(ip)) };

        observer.Answered(From("10.244.1.5"), ZoneId.Root, Wire.Name("a.example"), DnsType.A, DnsRcode.NoError, AnswerSource.Cache, time.GetTimestamp());
        observer.Answered(From("10.244.1.5"), ZoneId.Root, Wire.Name("a.example"), DnsType.A, DnsRcode.NxDomain, AnswerSource.Forward, time.GetTimestamp());
        observer.Answered(From("192.168.0.9"), ZoneId.Root, Wire.Name("a.example"), DnsType.A, DnsRcode.NoError, AnswerSource.Forward, time.GetTimestamp()); // host network
        observer.Answered(From("10.9.9.9"), ZoneId.Root, Wire.Name("a.example"), DnsType.A, DnsRcode.NoError, AnswerSource.Forward, time.GetTimestamp()); // unknown

        string text = Encoding.UTF8.GetString(await metrics.ScrapeAsync(CancellationToken.None));
        Assert.Equal(2, Sample(text, "nodedns_namespace_queries_total", "namespace=\"shop\""));
        Assert.Equal(1, Sample(text, "nodedns_namespace_nxdomain_total", "namespace=\"shop\""));
        Assert.Equal(1, Sample(text, "nodedns_namespace_cache_misses_total", "namespace=\"shop\""));
        Assert.Equal(2, Sample(text, "nodedns_namespace_queries_total")); // nobody else

        time.Advance(NodeDns.Daemon.Kubernetes.NodePods.StaleAfter); // the watch broke long ago: pods are no longer trusted
        observer.Answered(From("10.244.1.5"), ZoneId.Root, Wire.Name("a.example"), DnsType.A, DnsRcode.NoError, AnswerSource.Cache, time.GetTimestamp());
        Assert.Equal(2, Sample(Encoding.UTF8.GetString(await metrics.ScrapeAsync(CancellationToken.None)), "nodedns_namespace_queries_total"));
    }
}
