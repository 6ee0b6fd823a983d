using System.Buffers.Binary;
using NodeDns.Protocol;

namespace NodeDns.Caching;

public enum ResponseKind : byte
{
    /// <summary>NOERROR with answers.</summary>
    Positive,

    /// <summary>NXDOMAIN or NODATA with an SOA (RFC 2308).</summary>
    Negative,

    /// <summary>A real answer that is relayed but not stored (TTL 0, no SOA, referral, unusual rcode).</summary>
    Uncacheable,

    /// <summary>SERVFAIL, REFUSED, NOTIMP or FORMERR from the upstream: try another one.</summary>
    Failure,
}

/// <summary>An upstream answer, scrubbed, classified, with the time it may be cached, and encoded.</summary>
public sealed record ClassifiedResponse(ResponseKind Kind, uint Ttl, ResponseTemplate Template);

/// <summary>
/// An upstream answer, scrubbed, classified and encoded in this thread's buffer (see
/// <see cref="ResponseClassifier.TryClassify"/>): read it before the thread encodes anything else.
/// </summary>
public readonly ref struct Classification
{
    internal Classification(ResponseKind kind, uint ttl, TemplateShape shape, ReadOnlySpan<byte> data)
    {
        Kind = kind;
        Ttl = ttl;
        Shape = shape;
        Data = data;
    }

    public ResponseKind Kind { get; }

    /// <summary>How long it may be cached, in seconds; 0 when it may not.</summary>
    public uint Ttl { get; }

    internal TemplateShape Shape { get; }

    /// <summary>The template's bytes (see <see cref="TemplateView"/>).</summary>
    internal ReadOnlySpan<byte> Data { get; }

    public ResponseTemplate ToTemplate() => new(Data.ToArray(), Shape);
}

/// <summary>Decides what an upstream answer is and how long it lives (RFC 2308 §5, RFC 2181 §8).</summary>
public static class ResponseClassifier
{
    /// <returns>null when the answer cannot be encoded (too long).</returns>
    public static ClassifiedResponse? Classify(DnsResponseMessage response, ReadOnlySpan<byte> questionName, TtlPolicy policy) =>
        TryClassify(response, questionName, policy, out Classification classified)
            ? new ClassifiedResponse(classified.Kind, classified.Ttl, classified.ToTemplate())
            : null;

    /// <summary>Scrubs, classifies and encodes without allocating; false when the answer cannot be encoded (too long).</summary>
    public static bool TryClassify(DnsResponseMessage response, ReadOnlySpan<byte> questionName, TtlPolicy policy, out Classification classified)
    {
        classified = default;
        int rcode = response.Rcode;
        ReadOnlySpan<ResponseRecord> records = response.Records;
        Span<bool> keep = stackalloc bool[records.Length]; // at most DnsLimits.MaxRecordsPerMessage
        ResponseScrubber.Scrub(response, questionName, keep);
        bool hasAnswers = false;
        int soa = -1;
        uint minimumTtl = uint.MaxValue;
        for (int i = 0; i < records.Length; i++)
        {
            if (!keep[i])
            {
                continue;
            }

            ref readonly ResponseRecord record = ref records[i];
            hasAnswers |= record.Section == DnsSection.Answer;
            soa = soa < 0 && record is { Section: DnsSection.Authority, Type: DnsType.SOA } ? i : soa;
            minimumTtl = Math.Min(minimumTtl, record.Ttl);
        }

        minimumTtl = minimumTtl == uint.MaxValue ? 0 : minimumTtl;
        ResponseKind kind = rcode switch
        {
            _ when DnsRcode.IsServerFailure(rcode) => ResponseKind.Failure,
            DnsRcode.NoError when hasAnswers => ResponseKind.Positive,
            DnsRcode.NoError or DnsRcode.NxDomain when soa >= 0 => ResponseKind.Negative,
            _ => ResponseKind.Uncacheable,
        };

        uint ttl = kind switch
        {
            ResponseKind.Positive => Math.Clamp(minimumTtl, policy.MinTtl, policy.MaxTtl),
            ResponseKind.Negative => Math.Clamp(Math.Min(minimumTtl, SoaMinimum(response.Data(records[soa]))), policy.NegativeMinTtl,
                policy.NegativeMaxTtl),
            _ => 0,
        };
        if (ttl == 0 && kind is ResponseKind.Positive or ResponseKind.Negative)
        {
            kind = ResponseKind.Uncacheable; // TTL 0 means "use once" (CP-09)
        }

        uint cap = kind is ResponseKind.Positive or ResponseKind.Negative ? ttl : policy.MaxTtl;
        bool authenticData = (response.Flags & DnsHeader.AdBit) != 0;
        if (!ResponseTemplateBuilder.TryEncode(questionName, response.QuestionType, response.QuestionClass, rcode, authenticData,
                new KeptRecords(response, keep), cap, out TemplateShape shape, out ReadOnlySpan<byte> data))
        {
            return false;
        }

        classified = new Classification(kind, ttl, shape, data);
        return true;
    }

    /// <summary>The MINIMUM field: the last 4 bytes of the (decompressed) SOA RDATA.</summary>
    private static uint SoaMinimum(ReadOnlySpan<byte> soa) => BinaryPrimitives.ReadUInt32BigEndian(soa[^4..]);
}
