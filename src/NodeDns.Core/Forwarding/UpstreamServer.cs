using System.Net;

namespace NodeDns.Forwarding;

public enum UpstreamTransport : byte
{
    /// <summary>UDP, retried over TCP when the answer is truncated (the default).</summary>
    Udp,

    /// <summary>TCP only (node-local-dns's <c>force_tcp</c>).</summary>
    Tcp,

    /// <summary>UDP only: a truncated answer is relayed to the client as it is, never cached.</summary>
    UdpOnly,
}

public sealed record UpstreamServer(IPEndPoint EndPoint, UpstreamTransport Transport)
{
    /// <summary>The port of an upstream given without one.</summary>
    public const int DefaultPort = 53;

    public override string ToString() => EndPoint.ToString();
}
