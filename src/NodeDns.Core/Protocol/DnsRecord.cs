namespace NodeDns.Protocol;

public enum DnsSection : byte
{
    Answer,
    Authority,
    Additional,
}

/// <summary>
/// One resource record of an upstream response, fully decompressed: the owner and any names inside well-known
/// RDATA are stored uncompressed, so records can be filtered and re-encoded safely. Miss path only.
/// </summary>
public sealed record DnsRecord(DnsSection Section, byte[] Owner, ushort Type, ushort Class, uint Ttl, byte[] Data);

/// <summary>An upstream response read by <see cref="ResponseReader"/>.</summary>
public sealed class DnsResponseMessage
{
    public required ushort Id { get; init; }
    public required ushort Flags { get; init; }
    public required byte[] QuestionName { get; init; }
    public required ushort QuestionType { get; init; }
    public required ushort QuestionClass { get; init; }
    public required IReadOnlyList<DnsRecord> Records { get; init; }

    public int Rcode => DnsHeader.Rcode(Flags);
    public bool Truncated => (Flags & DnsHeader.TcBit) != 0;
}
