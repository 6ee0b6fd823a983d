using System.Net;
using NodeDns.Serving;

namespace NodeDns.Dnstap;

/// <summary>
/// One end of a DNS exchange as dnstap records it: address and port, read without allocating. An IPv4 address seen
/// through a dual-stack socket is recorded as IPv4.
/// </summary>
public readonly record struct DnstapPeer(ClientAddress Address, ushort Port)
{
    /// <summary>From a raw Linux sockaddr (sockaddr_in or sockaddr_in6), as recvmmsg gives it.</summary>
    public static DnstapPeer FromSockaddr(ReadOnlySpan<byte> sockaddr) => new(ClientAddress.FromSockaddr(sockaddr), Interop.Sockaddr.Port(sockaddr));

    public static DnstapPeer From(IPEndPoint endPoint) => new(ClientAddress.From(endPoint.Address), (ushort)endPoint.Port);

    public bool Ipv6 => !Address.IsIpv4;
}
