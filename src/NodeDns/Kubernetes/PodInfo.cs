using System.Net;

namespace NodeDns.Daemon.Kubernetes;

/// <summary>A pod's own DNS settings (<c>spec.dnsConfig</c>).</summary>
public sealed record PodDnsConfig(IReadOnlyList<string> Searches, IReadOnlyList<string> Nameservers, IReadOnlyList<string> Options);

/// <summary>What NodeDns keeps of one pod on its node: who it is, where it asks from, and how its DNS is set up.</summary>
public sealed record PodInfo(
    string Uid,
    string Namespace,
    string Name,
    IReadOnlyList<IPAddress> Ips,
    string DnsPolicy,
    PodDnsConfig? DnsConfig,
    bool HostNetwork)
{
    public override string ToString() => $"{Namespace}/{Name}";
}
