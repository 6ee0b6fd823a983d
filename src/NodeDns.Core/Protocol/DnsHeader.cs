using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>Reads and writes the 12-byte DNS header in place (RFC 1035 §4.1.1).</summary>
public static class DnsHeader
{
    public const ushort QrBit = 0x8000;
    public const ushort AaBit = 0x0400;
    public const ushort TcBit = 0x0200;
    public const ushort RdBit = 0x0100;
    public const ushort RaBit = 0x0080;
    public const ushort ZBit = 0x0040;
    public const ushort AdBit = 0x0020;
    public const ushort CdBit = 0x0010;

    public static ushort Id(ReadOnlySpan<byte> m) => BinaryPrimitives.ReadUInt16BigEndian(m);
    public static ushort Flags(ReadOnlySpan<byte> m) => BinaryPrimitives.ReadUInt16BigEndian(m[2..]);
    public static int Opcode(ushort flags) => (flags >> 11) & 0xF;
    public static int Rcode(ushort flags) => flags & 0xF;
    public static ushort QuestionCount(ReadOnlySpan<byte> m) => BinaryPrimitives.ReadUInt16BigEndian(m[4..]);
    public static ushort AnswerCount(ReadOnlySpan<byte> m) => BinaryPrimitives.ReadUInt16BigEndian(m[6..]);
    public static ushort AuthorityCount(ReadOnlySpan<byte> m) => BinaryPrimitives.ReadUInt16BigEndian(m[8..]);
    public static ushort AdditionalCount(ReadOnlySpan<byte> m) => BinaryPrimitives.ReadUInt16BigEndian(m[10..]);

    public static void SetId(Span<byte> m, ushort id) => BinaryPrimitives.WriteUInt16BigEndian(m, id);
    public static void SetFlags(Span<byte> m, ushort flags) => BinaryPrimitives.WriteUInt16BigEndian(m[2..], flags);

    public static void SetCounts(Span<byte> m, int questions, int answers, int authority, int additional)
    {
        BinaryPrimitives.WriteUInt16BigEndian(m[4..], (ushort)questions);
        BinaryPrimitives.WriteUInt16BigEndian(m[6..], (ushort)answers);
        BinaryPrimitives.WriteUInt16BigEndian(m[8..], (ushort)authority);
        BinaryPrimitives.WriteUInt16BigEndian(m[10..], (ushort)additional);
    }
}
