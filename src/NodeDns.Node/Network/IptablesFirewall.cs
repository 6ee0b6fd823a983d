namespace NodeDns.Node.Network;

/// <summary>
/// The rules through <c>iptables</c>/<c>ip6tables</c> (whichever backend, legacy or nft, the node uses), each checked
/// with <c>-C</c> and inserted at the top with <c>-I ... 1</c> when missing, as node-cache does. Waits for the
/// xtables lock rather than failing while kube-proxy or a CNI holds it.
/// </summary>
public sealed class IptablesFirewall(CommandRunner commands) : IFirewall
{
    private const string Advice = "NodeDns needs CAP_NET_ADMIN and iptables for --setup-iptables (or use --firewall nftables or none)";
    private static readonly string[] Wait = ["-w", "5"];

    public int Ensure(IReadOnlyList<ConntrackRule> rules)
    {
        int added = 0;
        foreach (ConntrackRule rule in rules)
        {
            if (!commands.Run(Tool(rule), [.. Wait, "-t", rule.Table, "-C", rule.Chain, .. rule.IptablesSpec()]).Succeeded)
            {
                Require(rule, [.. Wait, "-t", rule.Table, "-I", rule.Chain, "1", .. rule.IptablesSpec()]);
                added++;
            }
        }

        return added;
    }

    public void Remove(IReadOnlyList<ConntrackRule> rules)
    {
        foreach (ConntrackRule rule in rules)
        {
            for (int guard = 0; guard < 100 && commands.Run(Tool(rule), [.. Wait, "-t", rule.Table, "-C", rule.Chain, .. rule.IptablesSpec()]).Succeeded; guard++)
            {
                Require(rule, [.. Wait, "-t", rule.Table, "-D", rule.Chain, .. rule.IptablesSpec()]);
            }
        }
    }

    private void Require(ConntrackRule rule, IReadOnlyList<string> args)
    {
        CommandResult result = commands.Run(Tool(rule), args);
        if (!result.Succeeded)
        {
            string type = result.Output.Contains("xtables lock", StringComparison.OrdinalIgnoreCase) ? "iptables_lock" : "iptables";
            throw new NetworkSetupException($"'{result.Command}' failed (exit {result.ExitCode}): {result.Output}. {Advice}", type);
        }
    }

    private static string Tool(ConntrackRule rule) => rule.IsIpv6 ? "ip6tables" : "iptables";
}
