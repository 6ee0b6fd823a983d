using System.Net;
using NodeDns.Node.Network;

namespace NodeDns.Core.Tests;

public class FirewallTests
{
    /// <summary>Records commands; answers "-C" checks from a set of installed rules.</summary>
    private sealed class FakeCommands : CommandRunner
    {
        public HashSet<string> Installed { get; } = [];
        public List<string> Commands { get; } = [];
        public string? FailWith { get; set; }

        public override CommandResult Run(string tool, IReadOnlyList<string> args, string? input = null)
        {
            string command = tool + " " + string.Join(' ', args);
            Commands.Add(command);
            var key = args.ToList();
            key.RemoveRange(0, 2); // -w 5
            int op = key.FindIndex(a => a is "-C" or "-I" or "-D");
            if (key[op] == "-I")
            {
                key.RemoveAt(op + 2); // the position after the chain
            }

            key.RemoveAt(op);
            string rule = string.Join(' ', key);
            if (FailWith is not null && args.Contains("-I"))
            {
                return new CommandResult(command, 4, FailWith);
            }

            if (args.Contains("-C"))
            {
                return new CommandResult(command, Installed.Contains(tool + rule) ? 0 : 1, "");
            }

            if (args.Contains("-I"))
            {
                Installed.Add(tool + rule);
            }
            else if (args.Contains("-D"))
            {
                Installed.Remove(tool + rule);
            }

            return new CommandResult(command, 0, "");
        }
    }

    [Fact]
    public void The_twelve_node_cache_rules_per_address()
    {
        string[] rules = [.. ConntrackRule.For(IPAddress.Parse("169.254.20.10"), 53, 8080)
            .Select(r => $"{r.Table} {r.Chain} {string.Join(' ', r.IptablesSpec())}")];
        string[] expected =
        [
            "raw PREROUTING -p tcp -d 169.254.20.10 --dport 53 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "raw PREROUTING -p udp -d 169.254.20.10 --dport 53 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "filter INPUT -p tcp -d 169.254.20.10 --dport 53 -m comment --comment NodeDns: allow DNS traffic -j ACCEPT",
            "filter INPUT -p udp -d 169.254.20.10 --dport 53 -m comment --comment NodeDns: allow DNS traffic -j ACCEPT",
            "raw OUTPUT -p tcp -s 169.254.20.10 --sport 53 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "raw OUTPUT -p udp -s 169.254.20.10 --sport 53 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "filter OUTPUT -p tcp -s 169.254.20.10 --sport 53 -m comment --comment NodeDns: allow DNS traffic -j ACCEPT",
            "filter OUTPUT -p udp -s 169.254.20.10 --sport 53 -m comment --comment NodeDns: allow DNS traffic -j ACCEPT",
            "raw OUTPUT -p tcp -d 169.254.20.10 --dport 53 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "raw OUTPUT -p udp -d 169.254.20.10 --dport 53 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "raw OUTPUT -p tcp -d 169.254.20.10 --dport 8080 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
            "raw OUTPUT -p tcp -s 169.254.20.10 --sport 8080 -m comment --comment NodeDns: skip conntrack -j NOTRACK",
        ];
        Assert.Equal(expected, rules);
    }

    [Fact]
    public void Iptables_inserts_missing_rules_at_the_top_once_and_removes_duplicates()
    {
        var commands = new FakeCommands();
        var firewall = new IptablesFirewall(commands);
        IReadOnlyList<ConntrackRule> rules = [.. ConntrackRule.For(IPAddress.Parse("169.254.20.10"), 53, 8080), .. ConntrackRule.For(IPAddress.Parse("fd00::10"), 53, 8080)];

        Assert.Equal(24, firewall.Ensure(rules));
        Assert.Equal(0, firewall.Ensure(rules));
        Assert.Equal(12, commands.Commands.Count(c => c.StartsWith("ip6tables", StringComparison.Ordinal) && c.Contains(" -I ", StringComparison.Ordinal)));
        Assert.All(commands.Commands.Where(c => c.Contains(" -I ", StringComparison.Ordinal)), c => Assert.Contains(" 1 -p ", c, StringComparison.Ordinal));

        firewall.Remove(rules);
        Assert.Empty(commands.Installed);
    }

    [Fact]
    public void Iptables_lock_errors_are_told_apart()
    {
        var commands = new FakeCommands { FailWith = "Another app is currently holding the xtables lock. Stopped waiting after 5s." };
        var error = Assert.Throws<NetworkSetupException>(() => new IptablesFirewall(commands).Ensure(ConntrackRule.For(IPAddress.Parse("169.254.20.10"), 53, 8080)));
        Assert.Equal("iptables_lock", error.ErrorType);
        Assert.Contains("iptables -w 5 -t raw -I PREROUTING 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("CAP_NET_ADMIN", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nftables_table_is_replaced_whole_in_one_transaction()
    {
        string script = NftablesFirewall.Render(ConntrackRule.For(IPAddress.Parse("fd00::10"), 53, 8080));
        Assert.StartsWith("table inet nodedns {}\ndelete table inet nodedns\ntable inet nodedns {\n", script, StringComparison.Ordinal);
        Assert.Contains("ip6 daddr fd00::10 udp dport 53 notrack comment \"NodeDns: skip conntrack\"", script, StringComparison.Ordinal);
        Assert.Contains("ip6 saddr fd00::10 tcp sport 53 accept comment \"NodeDns: allow DNS traffic\"", script, StringComparison.Ordinal);
        Assert.Equal(12, script.Split('\n').Count(l => l.Contains("comment", StringComparison.Ordinal)));
    }
}
