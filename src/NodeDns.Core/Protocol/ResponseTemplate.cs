namespace NodeDns.Protocol;

/// <summary>
/// A response in final wire form, ready to be served to any client asking the same question: header (ID 0),
/// question, records, never an OPT. The TTL field of each record holds its TTL at the time it was stored.
/// Serving copies the bytes, patches ID, flags and question, counts the TTLs down and adds the client's OPT.
/// The cache keeps a copy of these bytes in its own memory (see <see cref="TemplateView"/>); this object is what the
/// miss path builds and hands around.
/// </summary>
public sealed class ResponseTemplate
{
    /// <summary>The wire bytes followed by the record table: one array per answer, not two.</summary>
    private readonly byte[] _data;

    /// <param name="data">The wire bytes, then per record its end offset and TTL offset as little-endian uint16.</param>
    internal ResponseTemplate(byte[] data, in TemplateShape shape)
    {
        _data = data;
        Shape = shape;
    }

    internal TemplateShape Shape { get; }

    /// <summary>The wire bytes and the record table, as <see cref="TemplateView"/> reads them.</summary>
    internal ReadOnlySpan<byte> Data => _data;

    public int QuestionEnd => Shape.QuestionEnd;
    public int AnswerCount => Shape.AnswerCount;
    public int AuthorityCount => Shape.AuthorityCount;

    /// <summary>The upstream flags we keep: rcode and AD.</summary>
    public ushort Flags => Shape.Flags;

    public int Rcode => DnsHeader.Rcode(Flags);
    public int WireLength => Shape.WireLength;

    internal ReadOnlySpan<byte> Wire => _data.AsSpan(0, Shape.WireLength);

    /// <summary>
    /// Writes the response to <paramref name="query"/> into <paramref name="destination"/>, never longer than
    /// <paramref name="limit"/>: when the whole answer does not fit, as many whole records as fit are sent with TC=1.
    /// <paramref name="destination"/> must hold <see cref="WireLength"/> + <see cref="DnsLimits.EmptyOptRecordLength"/> bytes
    /// or <paramref name="limit"/>, whichever is smaller.
    /// </summary>
    /// <param name="fixedTtl">When not zero, every record gets this TTL instead (stale answers, RFC 8767 §4).</param>
    public int Write(ReadOnlySpan<byte> query, in QueryInfo info, uint elapsedSeconds, int limit, Span<byte> destination, uint fixedTtl = 0)
    {
        int length = new TemplateView(_data, Shape).Write(query, info, elapsedSeconds, limit, destination, fixedTtl);
        return length >= 0 ? length : throw new ArgumentException("the destination or the query does not fit this template");
    }
}
