namespace NodeDns.Protocol;

/// <summary>Builds short error answers (FORMERR, SERVFAIL, NOTIMP, REFUSED, BADVERS) to a client query.</summary>
public static class ErrorResponse
{
    /// <summary>Large enough for a header, the longest question and an OPT record.</summary>
    public const int MaxLength = DnsLimits.HeaderLength + DnsLimits.MaxNameLength + 4 + DnsLimits.EmptyOptRecordLength;

    public static int RcodeFor(QueryVerdict verdict) => verdict switch
    {
        QueryVerdict.FormErr => DnsRcode.FormErr,
        QueryVerdict.NotImp => DnsRcode.NotImp,
        QueryVerdict.Refused => DnsRcode.Refused,
        QueryVerdict.BadVers => DnsRcode.BadVers,
        _ => DnsRcode.ServFail,
    };

    /// <summary>
    /// Writes an error response. The question is echoed when it parsed; an OPT record is added when the query had
    /// a valid one (for BADVERS it carries the extended rcode).
    /// </summary>
    public static int Write(ReadOnlySpan<byte> query, in QueryInfo info, int rcode, Span<byte> destination)
    {
        ushort flags = (ushort)(DnsHeader.QrBit | (info.Flags & (0x7800 | DnsHeader.RdBit | DnsHeader.CdBit))
            | DnsHeader.RaBit | (rcode & 0xF));
        DnsHeader.SetId(destination, info.Id);
        DnsHeader.SetFlags(destination, flags);

        int length = DnsLimits.HeaderLength;
        int questions = 0;
        if (info.QuestionEnd > 0)
        {
            query[DnsLimits.HeaderLength..info.QuestionEnd].CopyTo(destination[length..]);
            length = info.QuestionEnd;
            questions = 1;
        }

        int additional = 0;
        if (info.HasOpt)
        {
            length += EdnsWriter.WriteOpt(destination[length..], info.DnssecOk, rcode);
            additional = 1;
        }

        DnsHeader.SetCounts(destination, questions, 0, 0, additional);
        return length;
    }
}
