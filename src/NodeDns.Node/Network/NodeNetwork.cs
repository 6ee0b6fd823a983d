using System.Net;

namespace NodeDns.Node.Network;

public sealed record NodeNetworkOptions
{
    public required IReadOnlyList<IPAddress> LocalIps { get; init; }
    public string InterfaceName { get; init; } = LinkLocalInterface.DefaultName;
    public bool SetupInterface { get; init; } = true;
    public FirewallBackend Firewall { get; init; } = FirewallBackend.Iptables;
    public int DnsPort { get; init; } = 53;
    public int HealthPort { get; init; } = 8080;

    /// <summary>Make the PREROUTING NOTRACK rules depend on a live NodeDns socket (see <see cref="ConntrackRule.RequireSocket"/>).</summary>
    public bool FailOpen { get; init; }
}

/// <summary>What one sync pass found and did.</summary>
public sealed record NetworkSyncResult(bool InterfaceRepaired, int RulesAdded, IReadOnlyList<NetworkSetupException> Errors);

/// <summary>The node step: the link-local interface and the conntrack-bypass rules for every local IP.</summary>
public sealed class NodeNetwork
{
    private readonly NodeNetworkOptions _options;
    private readonly LinkLocalInterface _interface;
    private readonly IFirewall? _firewall;
    private readonly IReadOnlyList<ConntrackRule> _rules;

    public NodeNetwork(NodeNetworkOptions options, CommandRunner commands, Action<string> log)
    {
        _options = options;
        _interface = new LinkLocalInterface(options.InterfaceName, options.LocalIps, commands, log);
        _firewall = options.Firewall switch
        {
            FirewallBackend.Iptables => new IptablesFirewall(commands),
            FirewallBackend.Nftables => new NftablesFirewall(commands),
            _ => null,
        };
        _rules = [.. options.LocalIps.SelectMany(ip => ConntrackRule.For(ip, options.DnsPort, options.HealthPort, options.FailOpen))];
    }

    public IReadOnlyList<ConntrackRule> Rules => _rules;

    /// <summary>Creates or repairs what is missing. Errors are collected, not thrown, so one failure does not stop the rest.</summary>
    public NetworkSyncResult Ensure()
    {
        var errors = new List<NetworkSetupException>();
        bool repaired = false;
        int added = 0;
        if (_options.SetupInterface)
        {
            try
            {
                repaired = _interface.Ensure();
            }
            catch (NetworkSetupException e)
            {
                errors.Add(e);
            }
        }

        if (_firewall is not null)
        {
            try
            {
                added = _firewall.Ensure(_rules);
            }
            catch (NetworkSetupException e)
            {
                errors.Add(e);
            }
        }

        return new NetworkSyncResult(repaired, added, errors);
    }

    public IReadOnlyList<NetworkSetupException> Teardown()
    {
        var errors = new List<NetworkSetupException>();
        try
        {
            _firewall?.Remove(_rules);
        }
        catch (NetworkSetupException e)
        {
            errors.Add(e);
        }

        if (_options.SetupInterface)
        {
            try
            {
                _interface.Remove();
            }
            catch (NetworkSetupException e)
            {
                errors.Add(e);
            }
        }

        return errors;
    }
}
