namespace NodeDns.Node.Network;

public enum FirewallBackend
{
    Iptables,
    Nftables,
    None,
}

/// <summary>Installs and removes the conntrack-bypass rules. Ensuring twice never duplicates a rule.</summary>
public interface IFirewall
{
    /// <returns>How many rules were missing and had to be added.</returns>
    int Ensure(IReadOnlyList<ConntrackRule> rules);

    void Remove(IReadOnlyList<ConntrackRule> rules);
}
