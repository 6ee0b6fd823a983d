using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// A response in final wire form, ready to be served to any client asking the same question: header (ID 0),
/// question, records, never an OPT. The TTL field of each record holds its TTL at the time it was stored.
/// Serving copies the bytes, patches ID, flags and question, counts the TTLs down and adds the client's OPT.
/// </summary>
public sealed class ResponseTemplate
{
    private readonly byte[] _wire;

    /// <summary>Per record: end offset in the upper 16 bits, offset of its TTL field in the lower 16 bits.</summary>
    private readonly int[] _records;

    internal ResponseTemplate(byte[] wire, int questionEnd, int[] records, int answers, int authority, ushort flags)
    {
        _wire = wire;
        _records = records;
        QuestionEnd = questionEnd;
        AnswerCount = answers;
        AuthorityCount = authority;
        Flags = flags;
    }

    public int QuestionEnd { get; }
    public int AnswerCount { get; }
    public int AuthorityCount { get; }
    public int RecordCount => _records.Length;

    /// <summary>The upstream flags we keep: rcode and AD.</summary>
    public ushort Flags { get; }

    public int Rcode => DnsHeader.Rcode(Flags);
    public int WireLength => _wire.Length;

    /// <summary>Bytes held by this template, for the memory budget.</summary>
    public int SizeInBytes => _wire.Length + (_records.Length * sizeof(int)) + 64;

    internal ReadOnlySpan<byte> Wire => _wire;

    /// <summary>
    /// Writes the response to <paramref name="query"/> into <paramref name="destination"/>, never longer than
    /// <paramref name="limit"/>: when the whole answer does not fit, as many whole records as fit are sent with TC=1.
    /// <paramref name="destination"/> must hold <see cref="WireLength"/> + <see cref="DnsLimits.EmptyOptRecordLength"/> bytes
    /// or <paramref name="limit"/>, whichever is smaller.
    /// </summary>
    /// <param name="fixedTtl">When not zero, every record gets this TTL instead (stale answers, RFC 8767 §4).</param>
    public int Write(ReadOnlySpan<byte> query, in QueryInfo info, uint elapsedSeconds, int limit, Span<byte> destination, uint fixedTtl = 0)
    {
        int optLength = info.HasOpt ? DnsLimits.EmptyOptRecordLength : 0;
        int length = _wire.Length;
        int records = _records.Length;
        bool truncated = false;
        if (length + optLength > limit)
        {
            truncated = true;
            records = FittingRecords(limit - optLength);
            length = records == 0 ? QuestionEnd : _records[records - 1] >>> 16;
        }

        _wire.AsSpan(0, length).CopyTo(destination);
        query[DnsLimits.HeaderLength..QuestionEnd].CopyTo(destination[DnsLimits.HeaderLength..]);

        for (int i = 0; i < records; i++)
        {
            Span<byte> ttlField = destination.Slice(_records[i] & 0xFFFF, 4);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(ttlField);
            BinaryPrimitives.WriteUInt32BigEndian(ttlField, fixedTtl != 0 ? fixedTtl : ttl > elapsedSeconds ? ttl - elapsedSeconds : 0);
        }

        bool showAd = info.DnssecOk || (info.Flags & DnsHeader.AdBit) != 0;
        ushort flags = (ushort)(DnsHeader.QrBit | DnsHeader.RaBit
            | (info.Flags & (DnsHeader.RdBit | DnsHeader.CdBit))
            | (Flags & (showAd ? 0x002F : 0x000F))
            | (truncated ? DnsHeader.TcBit : 0));
        DnsHeader.SetId(destination, info.Id);
        DnsHeader.SetFlags(destination, flags);

        int answers = Math.Min(records, AnswerCount);
        int authority = Math.Min(records - answers, AuthorityCount);
        int additional = records - answers - authority;
        if (info.HasOpt)
        {
            length += EdnsWriter.WriteOpt(destination[length..], info.DnssecOk);
            additional++;
        }

        DnsHeader.SetCounts(destination, 1, answers, authority, additional);
        return length;
    }

    private int FittingRecords(int space)
    {
        int count = 0;
        while (count < _records.Length && (_records[count] >>> 16) <= space)
        {
            count++;
        }

        return count;
    }
}
