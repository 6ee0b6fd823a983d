using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using NodeDns.Daemon.Cli;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Daemon.Operations;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests.Operations;

public class TopTalkersTests
{
    private static readonly PodInfo Web = new("u1", "shop", "web-1", [IPAddress.Parse("10.244.1.5")], "ClusterFirst", null, HostNetwork: false);
    private static readonly PodInfo Batch = new("u2", "jobs", "batch-1", [IPAddress.Parse("10.244.1.6")], "ClusterFirst", null, HostNetwork: false);

    private static ClientAddress At(string ip) => ClientAddress.From(IPAddress.Parse(ip));

    [Fact]
    public void Heavy_hitters_are_found_among_many_one_off_clients_and_names_in_fixed_memory()
    {
        var time = new FakeTimeProvider();
        var top = new TopTalkers(time, TimeSpan.FromMinutes(1), sampleEvery: 1);
        for (int i = 0; i < 3000; i++)
        {
            if (i % 3 == 0)
            {
                top.Record(Web, At("10.244.1.5"), Wire.Name("api.github.com"), DnsRcode.NoError, AnswerSource.Cache, expansion: false);
            }

            if (i % 10 == 0)
            {
                top.Record(Batch, At("10.244.1.6"), Wire.Name($"job{i}.example"), DnsRcode.NxDomain, AnswerSource.Forward, expansion: false);
            }

            top.Record(null, At($"10.9.{i / 250}.{i % 250}"), Wire.Name($"once{i}.example"), DnsRcode.NoError, AnswerSource.Forward, expansion: false);
        }

        TopReport report = top.Report();
        Assert.Equal("shop/web-1", report.Clients[0].Client);
        Assert.InRange(report.Clients[0].Queries, 1000, 1000 + 3000 / TopTalkers.Capacity * 2); // space-saving overestimates by at most n/k
        Assert.Equal("jobs/batch-1", report.Clients[1].Client);
        Assert.InRange(report.Clients[1].NxDomain, 300, 300 + 3000 / TopTalkers.Capacity * 2);
        Assert.Equal("api.github.com.", report.Names[0].Name);
        Assert.Equal(TopTalkers.Shown, report.Clients.Count);
    }

    [Fact]
    public void The_view_covers_the_last_window_only()
    {
        var time = new FakeTimeProvider();
        var top = new TopTalkers(time, TimeSpan.FromMinutes(1), sampleEvery: 1);
        top.Record(Web, At("10.244.1.5"), Wire.Name("a.example"), DnsRcode.NoError, AnswerSource.Cache, expansion: false);
        time.Advance(TimeSpan.FromSeconds(45));
        Assert.Single(top.Report().Clients); // between half a window and a whole one: still shown

        time.Advance(TimeSpan.FromSeconds(45));
        Assert.Empty(top.Report().Clients);
        Assert.Empty(top.Report().Names);
    }

    [Fact]
    public void Search_expansion_nxdomains_per_successful_lookup_show_a_pods_ndots_cost()
    {
        var time = new FakeTimeProvider();
        var pods = new NodePods(time);
        pods.ReplaceAll([Web]);
        var top = new TopTalkers(time, TimeSpan.FromMinutes(1), sampleEvery: 1);
        var insight = new PodInsight(new DnsMetrics(), pods, top, new PodSearchPaths(pods, "cluster.local", []));
        foreach (string suffix in new[] { "shop.svc.cluster.local", "svc.cluster.local", "cluster.local" })
        {
            insight.Answered(At("10.244.1.5"), Wire.Name("api.github.com." + suffix), DnsRcode.NxDomain, AnswerSource.Forward, time.GetTimestamp());
        }

        insight.Answered(At("10.244.1.5"), Wire.Name("api.github.com"), DnsRcode.NoError, AnswerSource.Forward, time.GetTimestamp());
        insight.Answered(At("10.244.1.5"), Wire.Name("typo.example"), DnsRcode.NxDomain, AnswerSource.Forward, time.GetTimestamp()); // no expansion

        TopClient web = Assert.Single(top.Report().Clients);
        Assert.Equal(3.0, web.ExpansionNxPerSuccess);
        Assert.Equal(4, web.NxDomain);
    }

    [Theory]
    [InlineData("10.244.1.5", 403)]
    [InlineData("192.168.1.10", 403)]
    [InlineData("::ffff:10.0.0.1", 403)]
    [InlineData("127.0.0.1", 200)]
    [InlineData("::1", 200)]
    public void Only_the_node_itself_may_read_the_top_view(string peer, int status)
    {
        var time = new FakeTimeProvider();
        var pods = new NodePods(time);
        var insight = new PodInsight(new DnsMetrics(), pods, new TopTalkers(time, TimeSpan.FromMinutes(1), 1), new PodSearchPaths(pods, "cluster.local", []));
        Assert.Equal(status, TopView.Reply(insight, IPAddress.Parse(peer)).Status);
        Assert.Equal(404, TopView.Reply(null, IPAddress.Loopback).Status); // the pod watch is off
    }

    [Fact]
    public void The_terminal_view_lists_clients_and_names()
    {
        var time = new FakeTimeProvider();
        var top = new TopTalkers(time, TimeSpan.FromMinutes(1), sampleEvery: 4);
        top.Record(Web, At("10.244.1.5"), Wire.Name("api.github.com"), DnsRcode.NxDomain, AnswerSource.Forward, expansion: true);
        top.Record(null, At("10.9.0.1"), Wire.Name("api.github.com"), DnsRcode.NoError, AnswerSource.Cache, expansion: false);

        string view = TopCommand.Render(Encoding.UTF8.GetString(TopView.Json(top.Report())));

        Assert.Contains("1 query in 4 sampled", view, StringComparison.Ordinal);
        Assert.Matches(@"shop/web-1\s+4\s+4\s+4\s+1\.00", view);
        Assert.Matches(@"10\.9\.0\.1\s+4\s+0\s+0", view);
        Assert.Matches(@"api\.github\.com\.\s+8\s+4", view);
    }
}
