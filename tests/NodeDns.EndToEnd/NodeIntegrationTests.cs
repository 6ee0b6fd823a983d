using System.Text.RegularExpressions;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// The node step for real, as root, inside network namespaces the tests create and delete: interface, addresses,
/// iptables and nftables rules, serve with --setup-*, dig and glibc on the link-local address.
/// </summary>
public sealed class NodeIntegrationTests
{
    private const string LocalIp = "169.254.20.10";

    private static async Task<string> NodeDnsAsync(NetworkNamespace ns, params string[] args) =>
        await ns.ExecOkAsync([await NodeDnsProcess.BinaryPathAsync(), .. args]);

    private static int Count(string text, string what) => Regex.Matches(text, Regex.Escape(what)).Count;

    [Fact]
    public async Task Setup_network_with_iptables_is_idempotent_dual_stack_and_teardown_removes_everything()
    {
        await using NetworkNamespace ns = await NetworkNamespace.CreateAsync();
        string output = await NodeDnsAsync(ns, "setup-network", "--local-ip", $"{LocalIp},fd00::10", "--health-port", "8081");
        Assert.Contains("24 iptables rules, 24 added", output, StringComparison.Ordinal);

        string addresses = await ns.ExecOkAsync("ip", "-o", "addr", "show", "dev", "nodelocaldns");
        Assert.Contains($"inet {LocalIp}/32", addresses, StringComparison.Ordinal);
        Assert.Contains("inet6 fd00::10/128", addresses, StringComparison.Ordinal);
        Assert.Equal(12, Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:"));
        Assert.Equal(12, Count(await ns.ExecOkAsync("ip6tables-save"), "NodeDns:"));
        Assert.Contains($"-A PREROUTING -d {LocalIp}/32 -p udp -m udp --dport 53 -m comment --comment \"NodeDns: skip conntrack\" -j NOTRACK",
            await ns.ExecOkAsync("iptables-save", "-t", "raw"), StringComparison.Ordinal);
        Assert.Contains("--dport 8081", await ns.ExecOkAsync("iptables-save", "-t", "raw"), StringComparison.Ordinal);

        Assert.Contains("0 added", await NodeDnsAsync(ns, "setup-network", "--local-ip", $"{LocalIp},fd00::10", "--health-port", "8081"), StringComparison.Ordinal);
        Assert.Equal(12, Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:"));

        await NodeDnsAsync(ns, "teardown-network", "--local-ip", $"{LocalIp},fd00::10", "--health-port", "8081");
        Assert.Equal(0, Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:"));
        Assert.Equal(0, Count(await ns.ExecOkAsync("ip6tables-save"), "NodeDns:"));
        Assert.NotEqual(0, (await ns.ExecAsync("ip", "link", "show", "nodelocaldns")).ExitCode);
    }

    [Fact]
    public async Task Setup_network_with_nftables_keeps_one_table_and_teardown_deletes_it()
    {
        await using NetworkNamespace ns = await NetworkNamespace.CreateAsync();
        await NodeDnsAsync(ns, "setup-network", "--local-ip", LocalIp, "--firewall", "nftables", "--interface", "nodedns0");
        await NodeDnsAsync(ns, "setup-network", "--local-ip", LocalIp, "--firewall", "nftables", "--interface", "nodedns0");

        string table = await ns.ExecOkAsync("nft", "list", "table", "inet", "nodedns");
        Assert.Equal(12, Count(table, "NodeDns:"));
        Assert.Contains($"ip daddr {LocalIp} udp dport 53 notrack", table, StringComparison.Ordinal);
        Assert.Contains($"inet {LocalIp}/32", await ns.ExecOkAsync("ip", "-o", "addr", "show", "dev", "nodedns0"), StringComparison.Ordinal);
        Assert.Equal(0, Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:"));

        await NodeDnsAsync(ns, "teardown-network", "--local-ip", LocalIp, "--firewall", "nftables", "--interface", "nodedns0");
        Assert.NotEqual(0, (await ns.ExecAsync("nft", "list", "table", "inet", "nodedns")).ExitCode);
        Assert.NotEqual(0, (await ns.ExecAsync("ip", "link", "show", "nodedns0")).ExitCode);
    }

    [Fact]
    public async Task Bad_network_options_exit_2()
    {
        ToolResult result = await NodeDnsProcess.RunToExitAsync(["setup-network", "--local-ip", "127.0.0.1"]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--local-ip: invalid value '127.0.0.1'", result.Error, StringComparison.Ordinal);
        Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["setup-network", "--local-ip", LocalIp, "--firewall", "pf"])).ExitCode);
        Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["serve", "--setup-iptables", "--upstream", "127.0.0.1"])).ExitCode);
    }

    [Fact]
    public async Task Serve_with_setup_answers_dig_and_glibc_repairs_flushed_rules_and_cleans_up_on_sigterm()
    {
        await using NetworkNamespace ns = await NetworkNamespace.CreateAsync();
        NsdUpstream nsd = await NsdUpstream.StartInAsync(ns);
        try
        {
            await ns.WriteResolvConfAsync($"nameserver {LocalIp}\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:2 attempts:1\n");
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartInAsync(ns, "--local-ip", LocalIp, "--setup-interface", "--setup-iptables",
                "--sync-interval", "1s", "--upstream", nsd.EndPoint.ToString(), "--metrics", "127.0.0.1:9253", "--lameduck", "0s");
            await Eventually.TrueAsync(() => daemon.Output.Contains("node network ready", StringComparison.Ordinal));

            string dig = await ns.ExecOkAsync("dig", $"@{LocalIp}", "kubernetes.default.svc.cluster.local", "+short", "+tries=1", "+time=3");
            Assert.Equal("10.96.0.1", dig.Trim());
            string getent = await ns.ExecOkAsync("getent", "ahostsv4", "kubernetes");
            Assert.Contains("10.96.0.1", getent, StringComparison.Ordinal);
            Assert.Equal(12, Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:"));

            await ns.ExecOkAsync("iptables", "-t", "raw", "-F");
            await ns.ExecOkAsync("iptables", "-F");
            await Eventually.TrueAsync(() => daemon.Output.Contains("node network repaired", StringComparison.Ordinal));
            // A sync may run between the two flushes and repair the raw table alone; the next one repairs the rest.
            await Eventually.TrueAsync(async () => Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:") == 12);

            daemon.Signal(15);
            Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(10)), "did not exit after SIGTERM");
            Assert.Equal(0, daemon.ExitCode);
            Assert.Equal(0, Count(await ns.ExecOkAsync("iptables-save"), "NodeDns:"));
            Assert.NotEqual(0, (await ns.ExecAsync("ip", "link", "show", "nodelocaldns")).ExitCode);
        }
        finally
        {
            await nsd.DisposeAsync();
        }
    }

}
