using System.Globalization;
using System.Net;
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
    private static readonly string[] Valued = ["--local-ip", "--interface", "--health-port", "--firewall", "--dns-port"];

    public static int Run(string verb, IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        VerbArguments parsed = VerbArguments.Parse(verb, args, Valued, ["--fail-open"]);
        NodeNetworkOptions options = ParseOptions(parsed);
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

    public static NodeNetworkOptions ParseOptions(VerbArguments parsed) => new()
    {
        LocalIps = SettingsParser.ParseLocalIps(parsed.Require("--local-ip"), "--local-ip"),
        InterfaceName = SettingsParser.ParseInterfaceName(parsed.Get("--interface") ?? LinkLocalInterface.DefaultName, "--interface"),
        HealthPort = ParsePort(parsed.Get("--health-port") ?? "8080", "--health-port"),
        DnsPort = ParsePort(parsed.Get("--dns-port") ?? "53", "--dns-port"),
        Firewall = SettingsParser.ParseFirewall(parsed.Get("--firewall") ?? "iptables", "--firewall"),
        FailOpen = parsed.Has("--fail-open"),
    };

    private static int ParsePort(string text, string source) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? port
            : throw new ConfigurationException($"{source}: invalid value '{text}': port must be 1-65535");
}
