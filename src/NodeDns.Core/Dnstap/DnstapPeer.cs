using System.Buffers.Binary;
using System.Net;
using NodeDns.Serving;

namespace NodeDns.Dnstap;

/// <summary>One end of a DNS exchange as dnstap records it: address (IPv4 or IPv6) and port, read without allocating.</summary>
public readonly record struct DnstapPeer(ClientAddress Address, ushort Port, bool Ipv6)
{
    private static readonly UInt128 V4Mapped = (UInt128)0xFFFF << 32;

    /// <summary>From a raw Linux sockaddr (sockaddr_in or sockaddr_in6), as recvmmsg gives it.</summary>
    public static DnstapPeer FromSockaddr(ReadOnlySpan<byte> sockaddr)
    {
        var address = ClientAddress.FromSockaddr(sockaddr);
        return new DnstapPeer(address, Interop.Sockaddr.Port(sockaddr), !IsIpv4(address));
    }

    public static DnstapPeer From(IPEndPoint endPoint)
    {
        Span<byte> bytes = stackalloc byte[16];
        endPoint.Address.TryWriteBytes(bytes, out int length);
        ClientAddress address = length == 16
            ? new ClientAddress(BinaryPrimitives.ReadUInt128BigEndian(bytes))
            : new ClientAddress(V4Mapped | BinaryPrimitives.ReadUInt32BigEndian(bytes));
        return new DnstapPeer(address, (ushort)endPoint.Port, !IsIpv4(address));
    }

    /// <summary>IPv4, or IPv4 mapped into IPv6 (a dual-stack socket's view of an IPv4 client), which dnstap records as IPv4.</summary>
    private static bool IsIpv4(ClientAddress address) => address.Value >> 32 == 0xFFFF;

    /// <summary>Writes the address as dnstap wants it (4 bytes for IPv4, 16 for IPv6); returns its length.</summary>
    public int WriteAddress(Span<byte> destination)
    {
        if (Ipv6)
        {
            BinaryPrimitives.WriteUInt128BigEndian(destination, Address.Value);
            return 16;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(Address.Value & uint.MaxValue));
        return 4;
    }
}
