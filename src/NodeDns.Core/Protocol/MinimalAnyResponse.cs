using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// The answer to a query of type ANY over UDP (RFC 8482 §4.2): one synthesized HINFO record, CPU "RFC8482" and an
/// empty OS, instead of every RRset of the name — so NodeDns is no amplifier and forwards nothing for it. Over TCP,
/// where the source address is proven, ANY is forwarded as any other type.
/// </summary>
public static class MinimalAnyResponse
{
    /// <summary>TTL of the synthesized record (RFC 8482 leaves it to the operator).</summary>
    public const uint Ttl = 3600;

    private const ushort Hinfo = 13;
    private static ReadOnlySpan<byte> Rdata => [7, (byte)'R', (byte)'F', (byte)'C', (byte)'8', (byte)'4', (byte)'8', (byte)'2', 0];

    /// <summary>Writes the answer to <paramref name="query"/> (which parsed, with type ANY); returns its length.</summary>
    public static int Write(ReadOnlySpan<byte> query, in QueryInfo info, Span<byte> destination)
    {
        DnsHeader.SetId(destination, info.Id);
        DnsHeader.SetFlags(destination, (ushort)(DnsHeader.QrBit | DnsHeader.RaBit | (info.Flags & (DnsHeader.RdBit | DnsHeader.CdBit))));
        query[DnsLimits.HeaderLength..info.QuestionEnd].CopyTo(destination[DnsLimits.HeaderLength..]);
        Span<byte> record = destination[info.QuestionEnd..];
        BinaryPrimitives.WriteUInt16BigEndian(record, 0xC000 | DnsLimits.HeaderLength); // the owner is the question name
        BinaryPrimitives.WriteUInt16BigEndian(record[2..], Hinfo);
        BinaryPrimitives.WriteUInt16BigEndian(record[4..], DnsClass.IN);
        BinaryPrimitives.WriteUInt32BigEndian(record[6..], Ttl);
        BinaryPrimitives.WriteUInt16BigEndian(record[10..], (ushort)Rdata.Length);
        Rdata.CopyTo(record[12..]);
        int length = info.QuestionEnd + 12 + Rdata.Length;
        int additional = 0;
        if (info.HasOpt)
        {
            length += EdnsWriter.WriteOpt(destination[length..], info.DnssecOk);
            additional = 1;
        }

        DnsHeader.SetCounts(destination, 1, 1, 0, additional);
        return length;
    }
}
