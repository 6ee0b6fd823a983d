using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// A response template's bytes and shape, wherever they are stored (a <see cref="ResponseTemplate"/> on the heap or a
/// cache record in native memory), and the one routine that serves it. Bytes: the wire form (header with ID 0,
/// question, records, never an OPT) followed by the record table: per record its end offset and the offset of its TTL
/// field, little-endian uint16 each. The TTL field of each record holds its TTL at the time it was stored.
/// </summary>
internal readonly ref struct TemplateView
{
    /// <summary>Bytes of the record table per record.</summary>
    public const int RecordEntryLength = 4;

    /// <summary>Bytes of <see cref="TemplateShape"/> as <see cref="TemplateShape.Write"/> stores it.</summary>
    public const int ShapeLength = 12;

    private readonly ReadOnlySpan<byte> _data;
    private readonly TemplateShape _shape;

    public TemplateView(ReadOnlySpan<byte> data, in TemplateShape shape)
    {
        _data = data;
        _shape = shape;
    }

    private int RecordEnd(int index) => BinaryPrimitives.ReadUInt16LittleEndian(_data[(_shape.WireLength + (index * RecordEntryLength))..]);

    private int TtlOffset(int index) => BinaryPrimitives.ReadUInt16LittleEndian(_data[(_shape.WireLength + (index * RecordEntryLength) + 2)..]);

    /// <summary>
    /// Writes the response to <paramref name="query"/> into <paramref name="destination"/>, never longer than
    /// <paramref name="limit"/>: when the whole answer does not fit, as many whole records as fit are sent with TC=1.
    /// Returns -1, having written garbage, when the shape does not fit the bytes (a cache record read while it was
    /// being replaced; the caller's version check would reject it anyway) — never an exception.
    /// </summary>
    /// <param name="fixedTtl">When not zero, every record gets this TTL instead (stale answers, RFC 8767 §4).</param>
    public int Write(ReadOnlySpan<byte> query, in QueryInfo info, uint elapsedSeconds, int limit, Span<byte> destination, uint fixedTtl)
    {
        TemplateShape shape = _shape;
        if (!shape.Fits(_data.Length) || shape.QuestionEnd > query.Length)
        {
            return -1;
        }

        int optLength = info.HasOpt ? DnsLimits.EmptyOptRecordLength : 0;
        int length = shape.WireLength;
        int records = shape.RecordCount;
        bool truncated = false;
        if (length + optLength > limit)
        {
            truncated = true;
            records = FittingRecords(limit - optLength);
            length = records == 0 ? shape.QuestionEnd : RecordEnd(records - 1);
        }

        if (length < shape.QuestionEnd || length > shape.WireLength || length + optLength > destination.Length)
        {
            return -1;
        }

        _data[..length].CopyTo(destination);
        query[DnsLimits.HeaderLength..shape.QuestionEnd].CopyTo(destination[DnsLimits.HeaderLength..]);

        for (int i = 0; i < records; i++)
        {
            int ttlOffset = TtlOffset(i);
            if (ttlOffset < shape.QuestionEnd || ttlOffset > length - 4)
            {
                return -1;
            }

            Span<byte> ttlField = destination.Slice(ttlOffset, 4);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(ttlField);
            BinaryPrimitives.WriteUInt32BigEndian(ttlField, fixedTtl != 0 ? fixedTtl : ttl > elapsedSeconds ? ttl - elapsedSeconds : 0);
        }

        bool showAd = info.DnssecOk || (info.Flags & DnsHeader.AdBit) != 0;
        ushort flags = (ushort)(DnsHeader.QrBit | DnsHeader.RaBit
            | (info.Flags & (DnsHeader.RdBit | DnsHeader.CdBit))
            | (shape.Flags & (showAd ? 0x002F : 0x000F))
            | (truncated ? DnsHeader.TcBit : 0));
        DnsHeader.SetId(destination, info.Id);
        DnsHeader.SetFlags(destination, flags);

        int answers = Math.Min(records, shape.AnswerCount);
        int authority = Math.Min(records - answers, shape.AuthorityCount);
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
        while (count < _shape.RecordCount && RecordEnd(count) <= space)
        {
            count++;
        }

        return count;
    }
}

/// <summary>The shape of a template's bytes: where the question ends, how many records of each section, the flags kept.</summary>
internal readonly record struct TemplateShape(ushort WireLength, ushort QuestionEnd, ushort RecordCount, ushort AnswerCount,
    ushort AuthorityCount, ushort Flags)
{
    /// <summary>Bytes of the template: wire form and record table.</summary>
    public int DataLength => WireLength + (RecordCount * TemplateView.RecordEntryLength);

    /// <summary>Whether the shape is consistent and its bytes fit in <paramref name="available"/> bytes.</summary>
    public bool Fits(int available) =>
        QuestionEnd >= DnsLimits.HeaderLength && QuestionEnd <= WireLength && DataLength <= available
        && AnswerCount + AuthorityCount <= RecordCount;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(destination, WireLength);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], QuestionEnd);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], RecordCount);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], AnswerCount);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], AuthorityCount);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], Flags);
    }

    public static TemplateShape Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt16LittleEndian(source),
        BinaryPrimitives.ReadUInt16LittleEndian(source[2..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[10..]));
}
