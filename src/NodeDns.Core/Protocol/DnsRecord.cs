namespace NodeDns.Protocol;

public enum DnsSection : byte
{
    Answer,
    Authority,
    Additional,
}

/// <summary>
/// One resource record as an object, fully decompressed: for building an answer by hand (autopath's CNAME) and for
/// reading one back outside the miss path (snapshots, tests). The miss path reads records as <see cref="ResponseRecord"/>.
/// </summary>
public sealed record DnsRecord(DnsSection Section, byte[] Owner, ushort Type, ushort Class, uint Ttl, byte[] Data);

/// <summary>
/// One resource record of a <see cref="DnsResponseMessage"/>: its fields, and where its owner and its RDATA (names
/// inside well-known RDATA decompressed) sit in the message's bytes.
/// </summary>
public readonly record struct ResponseRecord(DnsSection Section, ushort Type, ushort Class, uint Ttl, int Owner, int OwnerLength, int Data,
    int DataLength);
