using System.Net;
using System.Net.Sockets;

namespace NodeDns.Node.Network;

/// <summary>
/// The interface that holds the node-local addresses (/32, /128): a dummy link as node-local-dns creates, or, on a
/// kernel without the dummy module, a bridge with no ports (it can hold addresses the same way).
/// </summary>
public sealed class LinkLocalInterface(string name, IReadOnlyList<IPAddress> addresses, CommandRunner commands, Action<string> log)
{
    public const string DefaultName = "nodelocaldns";
    private const string Advice = "NodeDns needs CAP_NET_ADMIN and the iproute2 'ip' tool for --setup-interface";

    public string Name { get; } = name;

    public bool Exists() => commands.Run("ip", ["link", "show", "dev", Name]).Succeeded;

    /// <summary>Creates the link if needed, brings it up and adds any missing address. Safe to repeat.</summary>
    /// <returns>True when something had to be (re)created.</returns>
    public bool Ensure()
    {
        bool changed = false;
        if (!Exists())
        {
            Create();
            changed = true;
        }

        commands.Require("ip", ["link", "set", "dev", Name, "up"], "interface_add", Advice);
        string present = commands.Require("ip", ["-o", "addr", "show", "dev", Name], "interface_check", Advice).Output;
        foreach (IPAddress address in addresses)
        {
            string prefix = address.AddressFamily == AddressFamily.InterNetworkV6 ? "128" : "32";
            if (!present.Contains($" {address}/{prefix} ", StringComparison.Ordinal))
            {
                string[] args = address.AddressFamily == AddressFamily.InterNetworkV6
                    ? ["addr", "add", $"{address}/{prefix}", "dev", Name, "nodad"]
                    : ["addr", "add", $"{address}/{prefix}", "dev", Name];
                commands.Require("ip", args, "interface_add", Advice);
                changed = true;
            }
        }

        return changed;
    }

    public void Remove()
    {
        if (Exists())
        {
            commands.Require("ip", ["link", "del", "dev", Name], "interface_add", Advice);
        }
    }

    private void Create()
    {
        CommandResult dummy = commands.Run("ip", ["link", "add", Name, "type", "dummy"]);
        if (dummy.Succeeded)
        {
            return;
        }

        log($"'{dummy.Command}' failed ({dummy.Output}): this kernel has no dummy link type; using a bridge with no ports for {Name}");
        commands.Require("ip", ["link", "add", Name, "type", "bridge"], "interface_add",
            Advice + "; the kernel must support the dummy or the bridge link type");
    }
}
