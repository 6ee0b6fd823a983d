using System.Buffers.Binary;

namespace NodeDns.Dnstap;

/// <summary>
/// Encodes one queued message as a dnstap protobuf (dnstap.proto: a Dnstap with identity, version, type MESSAGE and a
/// Message), by hand on a span: no generated code, no allocation.
/// </summary>
public sealed class DnstapEncoder(byte[] identity, byte[] version)
{
    private const int MessageKind = 1; // Dnstap.Type MESSAGE

    // Field tags: (field number << 3) | wire type (0 varint, 2 length-delimited, 5 fixed32).
    private const byte DnstapIdentity = (1 << 3) | 2;
    private const byte DnstapVersion = (2 << 3) | 2;
    private const byte DnstapMessage = (14 << 3) | 2;
    private const byte DnstapType = (15 << 3) | 0;
    private const byte MessageType = (1 << 3) | 0;
    private const byte SocketFamily = (2 << 3) | 0;
    private const byte SocketProtocol = (3 << 3) | 0;
    private const byte QueryAddress = (4 << 3) | 2;
    private const byte ResponseAddress = (5 << 3) | 2;
    private const byte QueryPort = (6 << 3) | 0;
    private const byte ResponsePort = (7 << 3) | 0;
    private const byte QueryTimeSec = (8 << 3) | 0;
    private const byte QueryTimeNsec = (9 << 3) | 5;
    private const byte QueryMessage = (10 << 3) | 2;
    private const byte ResponseTimeSec = (12 << 3) | 0;
    private const byte ResponseTimeNsec = (13 << 3) | 5;
    private const byte ResponseMessage = (14 << 3) | 2;

    /// <summary>Room a message needs beyond its DNS bytes (addresses, ports, times, tags, lengths).</summary>
    public const int Overhead = 128;

    public int MaxLength(int dnsLength) => identity.Length + version.Length + dnsLength + Overhead;

    /// <summary>Writes the Dnstap protobuf of <paramref name="entry"/>; <paramref name="destination"/> holds <see cref="MaxLength"/>.</summary>
    public int Write(DnstapEntry entry, Span<byte> destination)
    {
        int at = 0;
        at += Bytes(destination[at..], DnstapIdentity, identity);
        at += Bytes(destination[at..], DnstapVersion, version);

        // The Message's length comes first; write it after the body, which is then moved into place.
        Span<byte> body = destination[(at + 6)..];
        int bodyLength = WriteMessage(entry, body);
        destination[at++] = DnstapMessage;
        int prefix = Varint(destination[at..], (ulong)bodyLength);
        body[..bodyLength].CopyTo(destination[(at + prefix)..]);
        at += prefix + bodyLength;

        destination[at++] = DnstapType;
        destination[at++] = MessageKind;
        return at;
    }

    private static int WriteMessage(DnstapEntry entry, Span<byte> destination)
    {
        bool query = entry.Type is DnstapMessageTypes.ClientQuery or DnstapMessageTypes.ForwarderQuery;
        int at = 0;
        at += Number(destination[at..], MessageType, entry.Type switch
        {
            DnstapMessageTypes.ClientQuery => 5,
            DnstapMessageTypes.ClientResponse => 6,
            DnstapMessageTypes.ForwarderQuery => 7,
            _ => 8, // FORWARDER_RESPONSE
        });
        at += Number(destination[at..], SocketFamily, entry.Responder.Ipv6 ? 2UL : 1UL);
        at += Number(destination[at..], SocketProtocol, entry.OverTcp ? 2UL : 1UL);

        Span<byte> address = stackalloc byte[16];
        if (entry.Initiator.Port != 0)
        {
            at += Bytes(destination[at..], QueryAddress, address[..entry.Initiator.Address.WriteBytes(address)]);
            at += Number(destination[at..], QueryPort, entry.Initiator.Port);
        }

        at += Bytes(destination[at..], ResponseAddress, address[..entry.Responder.Address.WriteBytes(address)]);
        at += Number(destination[at..], ResponsePort, entry.Responder.Port);

        long seconds = entry.UnixTicks / TimeSpan.TicksPerSecond;
        uint nanoseconds = (uint)(entry.UnixTicks % TimeSpan.TicksPerSecond * 100);
        at += Number(destination[at..], query ? QueryTimeSec : ResponseTimeSec, (ulong)seconds);
        destination[at++] = query ? QueryTimeNsec : ResponseTimeNsec;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[at..], nanoseconds);
        at += 4;
        at += Bytes(destination[at..], query ? QueryMessage : ResponseMessage, entry.Message);
        return at;
    }

    private static int Number(Span<byte> destination, byte tag, ulong value)
    {
        destination[0] = tag;
        return 1 + Varint(destination[1..], value);
    }

    private static int Bytes(Span<byte> destination, byte tag, ReadOnlySpan<byte> value)
    {
        destination[0] = tag;
        int prefix = Varint(destination[1..], (ulong)value.Length);
        value.CopyTo(destination[(1 + prefix)..]);
        return 1 + prefix + value.Length;
    }

    private static int Varint(Span<byte> destination, ulong value)
    {
        int at = 0;
        while (value >= 0x80)
        {
            destination[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[at++] = (byte)value;
        return at;
    }
}
