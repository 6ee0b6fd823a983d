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
        LocalIps = ParseLocalIps(parsed.Require("--local-ip"), "--local-ip"),
        InterfaceName = ParseInterfaceName(parsed.Get("--interface") ?? LinkLocalInterface.DefaultName, "--interface"),
        HealthPort = ParsePort(parsed.Get("--health-port") ?? "8080", "--health-port"),
        DnsPort = ParsePort(parsed.Get("--dns-port") ?? "53", "--dns-port"),
        Firewall = ParseFirewall(parsed.Get("--firewall") ?? "iptables", "--firewall"),
        FailOpen = parsed.Has("--fail-open"),
    };

    public static IReadOnlyList<IPAddress> ParseLocalIps(string text, string source)
    {
        var addresses = new List<IPAddress>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            addresses.Add(IPAddress.TryParse(part.Trim('[', ']'), out IPAddress? address) && !IPAddress.IsLoopback(address)
                ? address
                : throw new ConfigurationException($"{source}: invalid value '{text}': '{part}' is not a non-loopback IP address"));
        }

        return addresses.Count > 0 ? addresses : throw new ConfigurationException($"{source}: invalid value '{text}': no address");
    }

    public static string ParseInterfaceName(string name, string source) =>
        name.Length is > 0 and <= 15 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? name
            : throw new ConfigurationException($"{source}: invalid value '{name}': an interface name has 1-15 letters, digits, '-', '_' or '.'");

    public static FirewallBackend ParseFirewall(string text, string source) => text.ToLowerInvariant() switch
    {
        "iptables" => FirewallBackend.Iptables,
        "nftables" => FirewallBackend.Nftables,
        "none" => FirewallBackend.None,
        _ => throw new ConfigurationException($"{source}: invalid value '{text}': expected iptables, nftables or none"),
    };

    private static int ParsePort(string text, string source) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? port
            : throw new ConfigurationException($"{source}: invalid value '{text}': port must be 1-65535");
}
