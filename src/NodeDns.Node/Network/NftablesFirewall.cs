using System.Text;

namespace NodeDns.Node.Network;

/// <summary>
/// The rules in a table of their own, <c>inet nodedns</c>, for nodes whose kube-proxy runs in nftables mode: NOTRACK
/// in chains at the raw priority, ACCEPT in chains just before the filter priority. The table is always written whole
/// in one atomic <c>nft -f</c> transaction, so it can never hold a duplicate. Note that with nftables an accept in
/// one table does not override a drop in another table at a later priority.
/// </summary>
public sealed class NftablesFirewall(CommandRunner commands) : IFirewall
{
    public const string Table = "nodedns";
    private const string Advice = "NodeDns needs CAP_NET_ADMIN and the nft tool for --firewall nftables";

    public int Ensure(IReadOnlyList<ConntrackRule> rules)
    {
        CommandResult current = commands.Run("nft", ["list", "table", "inet", Table]);
        int missing = current.Succeeded ? rules.Count(r => !current.Output.Contains(Signature(r), StringComparison.Ordinal)) : rules.Count;
        if (missing > 0)
        {
            commands.Require("nft", ["-f", "-"], "iptables", Advice, Render(rules));
        }

        return missing;
    }

    public void Remove(IReadOnlyList<ConntrackRule> rules)
    {
        if (commands.Run("nft", ["list", "table", "inet", Table]).Succeeded)
        {
            commands.Require("nft", ["delete", "table", "inet", Table], "iptables", Advice);
        }
    }

    /// <summary>Create-then-delete-then-define: replaces the table atomically whether or not it existed.</summary>
    public static string Render(IReadOnlyList<ConntrackRule> rules)
    {
        var text = new StringBuilder();
        text.AppendLine($"table inet {Table} {{}}");
        text.AppendLine($"delete table inet {Table}");
        text.AppendLine($"table inet {Table} {{");
        Chain(text, "prerouting_notrack", "prerouting", "raw", rules.Where(r => r is { Accept: false, Chain: "PREROUTING" }));
        Chain(text, "output_notrack", "output", "raw", rules.Where(r => r is { Accept: false, Chain: "OUTPUT" }));
        Chain(text, "input_accept", "input", "filter - 1", rules.Where(r => r is { Accept: true, Chain: "INPUT" }));
        Chain(text, "output_accept", "output", "filter - 1", rules.Where(r => r is { Accept: true, Chain: "OUTPUT" }));
        text.AppendLine("}");
        return text.ToString();
    }

    private static void Chain(StringBuilder text, string name, string hook, string priority, IEnumerable<ConntrackRule> rules)
    {
        text.AppendLine($"  chain {name} {{");
        text.AppendLine($"    type filter hook {hook} priority {priority}; policy accept;");
        foreach (ConntrackRule rule in rules)
        {
            text.AppendLine("    " + rule.NftStatement());
        }

        text.AppendLine("  }");
    }

    /// <summary>What <c>nft list</c> prints for the rule (without its comment).</summary>
    private static string Signature(ConntrackRule rule)
    {
        string statement = rule.NftStatement();
        return statement[..statement.IndexOf(" comment", StringComparison.Ordinal)];
    }
}
