using System.Net;
using System.Net.Sockets;

namespace NodeDns.Node.Network;

/// <summary>
/// One of the rules node-local-dns installs per local IP so that DNS to and from it skips conntrack (and with it
/// kube-proxy's NAT) and is accepted although untracked. <see cref="Match"/> is the direction of the address
/// (<c>-d</c>/<c>-s</c>) and port (<c>--dport</c>/<c>--sport</c>).
/// </summary>
public sealed record ConntrackRule(string Table, string Chain, string Protocol, bool MatchSource, IPAddress Address, int Port, bool Accept)
{
    /// <summary>
    /// Fail-open: the rule matches only while a socket is bound to the address and port (<c>-m socket --nowildcard</c>),
    /// so if NodeDns dies without teardown, traffic to an intercepted Service IP falls back to conntrack and kube-proxy.
    /// Only PREROUTING can ask this (the socket match is not available in OUTPUT).
    /// </summary>
    public bool RequireSocket { get; init; }

    public const string NotrackComment = "NodeDns: skip conntrack";
    public const string AcceptComment = "NodeDns: allow DNS traffic";

    public bool IsIpv6 => Address.AddressFamily == AddressFamily.InterNetworkV6;
    public string Comment => Accept ? AcceptComment : NotrackComment;

    /// <summary>The 12 rules of node-cache's initIptables for one address, DNS port and health port, in its order.</summary>
    /// <param name="failOpen">Make the PREROUTING NOTRACK rules depend on a live socket (see <see cref="RequireSocket"/>).</param>
    public static IReadOnlyList<ConntrackRule> For(IPAddress address, int dnsPort, int healthPort, bool failOpen = false) =>
    [
        new("raw", "PREROUTING", "tcp", false, address, dnsPort, false) { RequireSocket = failOpen },
        new("raw", "PREROUTING", "udp", false, address, dnsPort, false) { RequireSocket = failOpen },
        new("filter", "INPUT", "tcp", false, address, dnsPort, true),
        new("filter", "INPUT", "udp", false, address, dnsPort, true),
        new("raw", "OUTPUT", "tcp", true, address, dnsPort, false),
        new("raw", "OUTPUT", "udp", true, address, dnsPort, false),
        new("filter", "OUTPUT", "tcp", true, address, dnsPort, true),
        new("filter", "OUTPUT", "udp", true, address, dnsPort, true),
        new("raw", "OUTPUT", "tcp", false, address, dnsPort, false), // locally generated (hostNetwork) clients
        new("raw", "OUTPUT", "udp", false, address, dnsPort, false),
        new("raw", "OUTPUT", "tcp", false, address, healthPort, false), // the liveness probe
        new("raw", "OUTPUT", "tcp", true, address, healthPort, false),
    ];

    /// <summary>The iptables match and target: <c>-p tcp -d IP --dport 53 -m comment --comment ... -j NOTRACK</c>.</summary>
    public IReadOnlyList<string> IptablesSpec() =>
    [
        "-p", Protocol, MatchSource ? "-s" : "-d", Address.ToString(), MatchSource ? "--sport" : "--dport", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        .. RequireSocket ? (string[])["-m", "socket", "--nowildcard"] : [],
        "-m", "comment", "--comment", Comment, "-j", Accept ? "ACCEPT" : "NOTRACK",
    ];

    /// <summary>The same rule as an nftables statement: <c>ip daddr IP tcp dport 53 notrack comment "..."</c>.</summary>
    public string NftStatement() =>
        $"{(IsIpv6 ? "ip6" : "ip")} {(MatchSource ? "saddr" : "daddr")} {Address} {Protocol} {(MatchSource ? "sport" : "dport")} {Port} "
        + $"{(RequireSocket ? "socket wildcard 0 " : "")}{(Accept ? "accept" : "notrack")} comment \"{Comment}\"";
}
