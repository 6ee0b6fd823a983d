using NodeDns.Daemon.Configuration;
using NodeDns.Node.Network;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// <c>nodedns setup-network --local-ip IP[,IP] [--interface NAME] [--health-port N] [--firewall iptables|nftables|none] [--dns-port N] [--fail-open]</c>
/// and <c>nodedns teardown-network</c> with the same options. Exit 0 done, 1 a command failed (the message says which
/// and what to do), 2 bad arguments.
/// </summary>
public static class NetworkCommands
{
    /// <summary>The node options of serve, with the same names, parsers and defaults.</summary>
    private static readonly OptionSpec[] Accepted =
        [OptionCatalog.LocalIp, OptionCatalog.Interface, OptionCatalog.HealthPort, OptionCatalog.Firewall, OptionCatalog.DnsPort, OptionCatalog.FailOpen];

    public static int Run(string verb, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        NodeNetworkOptions options = ParseOptions(verb, args);
        var network = new NodeNetwork(options, new CommandRunner(), message => output.WriteLine(message));
        IReadOnlyList<NetworkSetupException> errors;
        if (verb == "setup-network")
        {
            NetworkSyncResult result = network.Ensure();
            errors = result.Errors;
            if (errors.Count == 0)
            {
                output.WriteLine($"{options.InterfaceName}: {string.Join(", ", options.LocalIps)}; "
                    + $"{(options.Firewall == FirewallBackend.None ? "no firewall rules" : $"{network.Rules.Count} {options.Firewall.ToString().ToLowerInvariant()} rules, {result.RulesAdded} added")}");
            }
        }
        else
        {
            errors = network.Teardown();
            if (errors.Count == 0)
            {
                output.WriteLine($"removed {options.InterfaceName} and the NodeDns rules for {string.Join(", ", options.LocalIps)}");
            }
        }

        foreach (NetworkSetupException e in errors)
        {
            error.WriteLine($"nodedns: {e.Message}");
        }

        return errors.Count == 0 ? 0 : 1;
    }

    public static NodeNetworkOptions ParseOptions(string verb, IReadOnlyList<string> args)
    {
        Dictionary<OptionSpec, RawValue> raw = VerbArguments.ParseServeOptions(verb, args, Accepted)
            .ToDictionary(pair => pair.Key, pair => new RawValue(pair.Value, pair.Key.Flag));
        if (!raw.ContainsKey(OptionCatalog.LocalIp))
        {
            throw new ConfigurationException($"{verb}: {OptionCatalog.LocalIp.Flag} is required");
        }

        return SettingsParser.Apply(DaemonSettings.Defaults, raw).NodeNetwork! with { SetupInterface = true };
    }
}
