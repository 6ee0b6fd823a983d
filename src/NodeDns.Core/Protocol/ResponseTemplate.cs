using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// A response in final wire form, ready to be served to any client asking the same question: header (ID 0),
/// question, records, never an OPT. The TTL field of each record holds its TTL at the time it was stored.
/// Serving copies the bytes, patches ID, flags and question, counts the TTLs down and adds the client's OPT.
/// </summary>
public sealed class ResponseTemplate
{
    /// <summary>Bytes of the record table, per record: its end offset and the offset of its TTL field (uint16 each).</summary>
    private const int RecordEntryLength = 4;

    /// <summary>The wire bytes followed by the record table: one array per cached answer, not two.</summary>
    private readonly byte[] _data;
    private readonly ushort _wireLength;
    private readonly ushort _questionEnd;
    private readonly ushort _recordCount;
    private readonly ushort _answerCount;
    private readonly ushort _authorityCount;

    /// <param name="data">The wire bytes, then per record its end offset and TTL offset as little-endian uint16.</param>
    internal ResponseTemplate(byte[] data, int wireLength, int questionEnd, int answers, int authority, ushort flags)
    {
        _data = data;
        _wireLength = (ushort)wireLength;
        _questionEnd = (ushort)questionEnd;
        _recordCount = (ushort)((data.Length - wireLength) / RecordEntryLength);
        _answerCount = (ushort)answers;
        _authorityCount = (ushort)authority;
        Flags = flags;
    }

    public int QuestionEnd => _questionEnd;
    public int AnswerCount => _answerCount;
    public int AuthorityCount => _authorityCount;

    /// <summary>The upstream flags we keep: rcode and AD.</summary>
    public ushort Flags { get; }

    public int Rcode => DnsHeader.Rcode(Flags);
    public int WireLength => _wireLength;

    /// <summary>Bytes held by this template, for the memory budget.</summary>
    public int SizeInBytes => _data.Length + 64;

    internal ReadOnlySpan<byte> Wire => _data.AsSpan(0, _wireLength);

    private int RecordEnd(int index) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_wireLength + (index * RecordEntryLength)));

    private int TtlOffset(int index) => BinaryPrimitives.ReadUInt16LittleEndian(_data.AsSpan(_wireLength + (index * RecordEntryLength) + 2));

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
        int length = _wireLength;
        int records = _recordCount;
        bool truncated = false;
        if (length + optLength > limit)
        {
            truncated = true;
            records = FittingRecords(limit - optLength);
            length = records == 0 ? QuestionEnd : RecordEnd(records - 1);
        }

        _data.AsSpan(0, length).CopyTo(destination);
        query[DnsLimits.HeaderLength..QuestionEnd].CopyTo(destination[DnsLimits.HeaderLength..]);

        for (int i = 0; i < records; i++)
        {
            Span<byte> ttlField = destination.Slice(TtlOffset(i), 4);
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
        while (count < _recordCount && RecordEnd(count) <= space)
        {
            count++;
        }

        return count;
    }
}
