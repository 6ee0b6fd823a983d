using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace NodeDns.Serving;

/// <summary>
/// A client's IP address as one 128-bit value (IPv4 mapped into ::ffff:0:0/96), read straight from a raw sockaddr
/// without allocating: usable as a dictionary key and for prefix matching.
/// </summary>
public readonly record struct ClientAddress(UInt128 Value)
{
    private static readonly UInt128 V4Mapped = (UInt128)0xFFFF << 32;

    /// <summary>From a raw Linux sockaddr (sockaddr_in or sockaddr_in6).</summary>
    public static ClientAddress FromSockaddr(ReadOnlySpan<byte> raw) =>
        Interop.Sockaddr.IsInet6(raw)
            ? new ClientAddress(BinaryPrimitives.ReadUInt128BigEndian(Interop.Sockaddr.Inet6Address(raw)))
            : new ClientAddress(V4Mapped | BinaryPrimitives.ReadUInt32BigEndian(Interop.Sockaddr.InetAddress(raw)));

    /// <summary>Without allocating (an IPv4 address is mapped here, not by <see cref="IPAddress.MapToIPv6"/>).</summary>
    public static ClientAddress From(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int length);
        return length == 16
            ? new ClientAddress(BinaryPrimitives.ReadUInt128BigEndian(bytes))
            : new ClientAddress(V4Mapped | BinaryPrimitives.ReadUInt32BigEndian(bytes));
    }

    /// <summary>IPv4, or IPv4 mapped into IPv6 (how a dual-stack socket sees an IPv4 client).</summary>
    public bool IsIpv4 => Value >> 32 == 0xFFFF;

    /// <summary>The address in network order: 4 bytes for IPv4 (mapped or not), 16 for IPv6; returns the length.</summary>
    public int WriteBytes(Span<byte> destination)
    {
        if (IsIpv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)(Value & uint.MaxValue));
            return 4;
        }

        BinaryPrimitives.WriteUInt128BigEndian(destination, Value);
        return 16;
    }

    /// <summary>The address as <see cref="IPAddress"/>: IPv4 for addresses inside ::ffff:0:0/96.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> bytes = stackalloc byte[16];
        return new IPAddress(bytes[..WriteBytes(bytes)]);
    }

    public bool IsLoopback => (Value >> 24) == ((V4Mapped >> 24) | 127) || Value == UInt128.One;
}

/// <summary>An address prefix (CIDR) in the same 128-bit space.</summary>
public readonly record struct AddressPrefix(UInt128 Network, UInt128 Mask)
{
    /// <summary>Parses "10.0.0.0/8", "fc00::/7" or a single address.</summary>
    public static bool TryParse(string text, out AddressPrefix prefix)
    {
        prefix = default;
        string[] parts = text.Trim().Split('/');
        if (parts.Length > 2 || !IPAddress.TryParse(parts[0], out IPAddress? address))
        {
            return false;
        }

        bool v4 = address.AddressFamily == AddressFamily.InterNetwork;
        int max = v4 ? 32 : 128;
        int length = max;
        if (parts.Length == 2 && (!int.TryParse(parts[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out length) || length > max))
        {
            return false;
        }

        int bits = v4 ? length + 96 : length;
        UInt128 mask = bits == 0 ? UInt128.Zero : UInt128.MaxValue << (128 - bits);
        prefix = new AddressPrefix(ClientAddress.From(address).Value & mask, mask);
        return true;
    }

    public bool Contains(ClientAddress address) => (address.Value & Mask) == Network;

    /// <summary>CIDR notation, IPv4 for prefixes inside ::ffff:0:0/96 (as <see cref="TryParse"/> reads it).</summary>
    public override string ToString()
    {
        int length = (int)UInt128.PopCount(Mask);
        Span<byte> bytes = stackalloc byte[16];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt128BigEndian(bytes, Network);
        var address = new IPAddress(bytes);
        return address.IsIPv4MappedToIPv6 && length >= 96 ? $"{address.MapToIPv4()}/{length - 96}" : $"{address}/{length}";
    }
}
