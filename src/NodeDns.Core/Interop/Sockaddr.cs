using System.Buffers.Binary;
using System.Net;

namespace NodeDns.Interop;

/// <summary>The Linux sockaddr_in and sockaddr_in6 layouts, as raw bytes (ip(7), ipv6(7)).</summary>
internal static class Sockaddr
{
    public const int AfInet = 2;
    public const int AfInet6 = 10;

    /// <summary>sizeof(struct sockaddr_in) and sizeof(struct sockaddr_in6).</summary>
    public const int InetLength = 16;
    public const int Inet6Length = 28;

    private const int PortOffset = 2;
    private const int InetAddressOffset = 4;
    private const int Inet6AddressOffset = 8;
    private const int Inet6ScopeOffset = 24;

    /// <summary>The address family (sa_family, host byte order).</summary>
    public static int Family(ReadOnlySpan<byte> sockaddr) => BinaryPrimitives.ReadUInt16LittleEndian(sockaddr);

    public static bool IsInet6(ReadOnlySpan<byte> sockaddr) => Family(sockaddr) == AfInet6 && sockaddr.Length >= Inet6Length;

    /// <summary>The 16 address bytes of a sockaddr_in6.</summary>
    public static ReadOnlySpan<byte> Inet6Address(ReadOnlySpan<byte> sockaddr) => sockaddr.Slice(Inet6AddressOffset, 16);

    /// <summary>The 4 address bytes of a sockaddr_in.</summary>
    public static ReadOnlySpan<byte> InetAddress(ReadOnlySpan<byte> sockaddr) => sockaddr.Slice(InetAddressOffset, 4);

    /// <summary>Writes the sockaddr of <paramref name="endPoint"/> (zeroed first); returns its length.</summary>
    public static int Write(Span<byte> sockaddr, IPEndPoint endPoint, ushort port)
    {
        bool inet6 = endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        sockaddr.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, (ushort)(inet6 ? AfInet6 : AfInet));
        SetPort(sockaddr, port);
        if (inet6)
        {
            endPoint.Address.TryWriteBytes(sockaddr[Inet6AddressOffset..], out _);
            BinaryPrimitives.WriteUInt32LittleEndian(sockaddr[Inet6ScopeOffset..], (uint)endPoint.Address.ScopeId);
            return Inet6Length;
        }

        endPoint.Address.TryWriteBytes(sockaddr[InetAddressOffset..], out _);
        return InetLength;
    }

    public static ushort Port(ReadOnlySpan<byte> sockaddr) => BinaryPrimitives.ReadUInt16BigEndian(sockaddr[PortOffset..]);

    public static void SetPort(Span<byte> sockaddr, ushort port) => BinaryPrimitives.WriteUInt16BigEndian(sockaddr[PortOffset..], port);
}
