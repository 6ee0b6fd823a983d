using System.Net;
using System.Text.RegularExpressions;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// The reference nodelocaldns.yaml with only the image changed: its Corefile and its container args run NodeDns in a
/// network namespace (as root), which then answers on both the link-local and the kube-dns address.
/// </summary>
public sealed partial class DropInTests
{
    private static readonly string Manifest = Path.Combine(NodeDnsProcess.RepositoryRoot(), "tests", "fixtures", "k8s-manifests", "nodelocaldns.yaml");

    private static (string Corefile, string[] Args) FromManifest()
    {
        string text = File.ReadAllText(Manifest);
        string corefile = string.Join('\n', CorefileBlock().Match(text).Groups[1].Value.Split('\n').Select(l => l.Length >= 4 ? l[4..] : l));
        string[] args = [.. Regex.Matches(ArgsLine().Match(text).Groups[1].Value, "\"([^\"]*)\"").Select(m => m.Groups[1].Value)];
        Assert.Contains("-localip", args);
        return (corefile, args);
    }

    /// <summary>The manifest's args with file paths moved to temporary ones (the host's /etc is not ours to write).</summary>
    private static string[] Localized(string[] args, string corefile, string pidfile) =>
        [.. args.Select((a, i) => i > 0 && args[i - 1] == "-conf" ? corefile : i > 0 && args[i - 1] == "-pidfile" ? pidfile : a)];

    [Fact]
    public async Task The_reference_corefile_as_filled_in_forwards_to_our_own_address_and_is_refused_as_a_loop()
    {
        (string corefile, string[] args) = FromManifest();
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, corefile);
        try
        {
            ToolResult result = await NodeDnsProcess.RunToExitAsync(Localized(args, file, file + ".pid"),
                new Dictionary<string, string> { ["KUBE_DNS_UPSTREAM_SERVICE_HOST"] = "10.96.0.11" });
            Assert.Equal(2, result.ExitCode);
            Assert.Contains("loop: zone cluster.local. forwards to 10.96.0.10:53", result.Error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_reference_manifest_rendered_with_real_values_serves_dns_health_and_metrics()
    {
        (string corefile, string[] args) = FromManifest();
        // The template as shipped in kubernetes/kubernetes: node-cache fills __PILLAR__CLUSTER__DNS__ from the
        // kube-dns-upstream Service (here: NSD inside the namespace) and forwards '.' to the node's resolv.conf.
        string template = corefile.Replace("forward . 10.96.0.10", "forward . __PILLAR__CLUSTER__DNS__", StringComparison.Ordinal);
        Assert.Contains("__PILLAR__CLUSTER__DNS__", template, StringComparison.Ordinal);
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, template);

        await using NetworkNamespace ns = await NetworkNamespace.CreateAsync();
        NsdUpstream nsd = await NsdUpstream.StartInAsync(ns, new IPEndPoint(IPAddress.Parse("127.0.0.53"), 53));
        try
        {
            await ns.WriteResolvConfAsync("nameserver 127.0.0.53\n");
            string pidfile = Path.Combine(Path.GetTempPath(), $"node-cache-{Guid.NewGuid():N}.pid");
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartInAsync(ns, "KUBE_DNS_UPSTREAM_SERVICE_HOST=127.0.0.53", Localized(args, file, pidfile));
            await Eventually.TrueAsync(() => daemon.Output.Contains("node network ready", StringComparison.Ordinal));

            foreach (string server in new[] { "169.254.20.10", "10.96.0.10" })
            {
                Assert.Equal("10.96.0.1", (await ns.ExecOkAsync("dig", $"@{server}", "kubernetes.default.svc.cluster.local", "+short", "+tries=1", "+time=3")).Trim());
            }

            Assert.Equal("192.0.2.1", (await ns.ExecOkAsync("dig", "@169.254.20.10", "www.example.test", "+short", "+tries=1", "+time=3")).Trim());
            Assert.Contains("OK", await ns.ExecOkAsync("curl", "-sf", "http://169.254.20.10:8080/health"), StringComparison.Ordinal); // the manifest's liveness probe
            Assert.Contains("coredns_dns_requests_total", await ns.ExecOkAsync("curl", "-sf", "http://127.0.0.1:9253/metrics"), StringComparison.Ordinal);
            Assert.Contains("coredns_nodecache_setup_errors_total", await ns.ExecOkAsync("curl", "-sf", "http://127.0.0.1:9353/metrics"), StringComparison.Ordinal);
            await Eventually.TrueAsync(async () => Regex.Matches(await ns.ExecOkAsync("iptables-save"), "NodeDns:").Count == 24);
            Assert.Equal(daemon.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), (await File.ReadAllTextAsync(pidfile)).Trim());
            Assert.Contains("169.254.20.10/32", await ns.ExecOkAsync("ip", "-o", "addr", "show", "dev", "nodelocaldns"), StringComparison.Ordinal);
            File.Delete(pidfile);
        }
        finally
        {
            await nsd.DisposeAsync();
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Stub_domains_of_the_kube_dns_configmap_are_applied_when_the_configmap_changes()
    {
        string corefile = Path.GetTempFileName();
        await File.WriteAllTextAsync(corefile, ".:53 {\n    cache 30\n    bind __PILLAR__LOCAL__DNS__\n    forward . __PILLAR__UPSTREAM__SERVERS__\n    prometheus 127.0.0.1:9253\n}\n");
        string kubeDns = Directory.CreateTempSubdirectory("kube-dns-").FullName;
        await using NetworkNamespace ns = await NetworkNamespace.CreateAsync();
        NsdUpstream nsd = await NsdUpstream.StartInAsync(ns, new IPEndPoint(IPAddress.Parse("127.0.0.53"), 53));
        try
        {
            await ns.WriteResolvConfAsync("nameserver 127.0.0.53\n");
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartInAsync(ns, "-localip", "169.254.20.10", "-conf", corefile,
                "-kubednscm", kubeDns, "-setupiptables=false", "-metrics-listen-address", "127.0.0.1:9353");
            await Eventually.TrueAsync(() => daemon.Output.Contains("node network ready", StringComparison.Ordinal));
            Assert.Equal("192.0.2.1", (await ns.ExecOkAsync("dig", "@169.254.20.10", "www.example.test", "+short", "+tries=1", "+time=3")).Trim());
            Assert.DoesNotContain("zone=\"acme.test.\"", await ns.ExecOkAsync("curl", "-sf", "http://127.0.0.1:9253/metrics"), StringComparison.Ordinal);

            await File.WriteAllTextAsync(Path.Combine(kubeDns, "stubDomains"), """{"acme.test": ["127.0.0.53"]}""");
            await Eventually.TrueAsync(async () => (await ns.ExecOkAsync("curl", "-sf", "http://127.0.0.1:9253/metrics"))
                .Contains("nodedns_upstream_healthy{zone=\"acme.test.\",to=\"127.0.0.53:53\"} 1", StringComparison.Ordinal));
            Assert.Contains("configuration reloaded", daemon.Output, StringComparison.Ordinal);
        }
        finally
        {
            await nsd.DisposeAsync();
            File.Delete(corefile);
            Directory.Delete(kubeDns, recursive: true);
        }
    }

    [Theory]
    [InlineData(new[] { "-localip", "169.254.20.10", "-reloadwithsignal" }, "-reloadwithsignal: this node-local-dns flag is not supported")]
    [InlineData(new[] { "-localip", "169.254.20.10", "-frobnicate", "1" }, "-frobnicate: unknown flag")]
    [InlineData(new[] { "-conf", "/tmp/x" }, "-localip: invalid localip specified")]
    [InlineData(new[] { "-localip", "169.254.20.10", "-conf", "/nonexistent/Corefile" }, "-conf: cannot read the Corefile '/nonexistent/Corefile'")]
    public async Task Bad_node_cache_flags_exit_2_naming_them(string[] args, string expected)
    {
        ToolResult result = await NodeDnsProcess.RunToExitAsync(args);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(expected, result.Error, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"  Corefile: \|\n((?:    .*\n|\n)+?)---")]
    private static partial Regex CorefileBlock();

    [GeneratedRegex(@"args: \[(.*)\]")]
    private static partial Regex ArgsLine();
}
