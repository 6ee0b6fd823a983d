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

/// <summary>Decides what an upstream answer is and how long it lives (RFC 2308 §5, RFC 2181 §8).</summary>
public static class ResponseClassifier
{
    /// <returns>null when the answer cannot be encoded (too long).</returns>
    public static ClassifiedResponse? Classify(DnsResponseMessage response, ReadOnlySpan<byte> questionName, TtlPolicy policy)
    {
        int rcode = response.Rcode;
        List<DnsRecord> records = ResponseScrubber.Scrub(response.Records, questionName);
        bool hasAnswers = false;
        DnsRecord? soa = null;
        foreach (DnsRecord record in records)
        {
            hasAnswers |= record.Section == DnsSection.Answer;
            soa ??= record is { Section: DnsSection.Authority, Type: DnsType.SOA } ? record : null;
        }

        ResponseKind kind = rcode switch
        {
            _ when DnsRcode.IsServerFailure(rcode) => ResponseKind.Failure,
            DnsRcode.NoError when hasAnswers => ResponseKind.Positive,
            DnsRcode.NoError or DnsRcode.NxDomain when soa is not null => ResponseKind.Negative,
            _ => ResponseKind.Uncacheable,
        };

        uint ttl = kind switch
        {
            ResponseKind.Positive => Math.Clamp(MinimumTtl(records), policy.MinTtl, policy.MaxTtl),
            ResponseKind.Negative => Math.Clamp(Math.Min(MinimumTtl(records), SoaMinimum(soa!)), policy.NegativeMinTtl, policy.NegativeMaxTtl),
            _ => 0,
        };
        if (ttl == 0 && kind is ResponseKind.Positive or ResponseKind.Negative)
        {
            kind = ResponseKind.Uncacheable; // TTL 0 means "use once" (CP-09)
        }

        uint cap = kind is ResponseKind.Positive or ResponseKind.Negative ? ttl : policy.MaxTtl;
        bool authenticData = (response.Flags & DnsHeader.AdBit) != 0;
        ResponseTemplate? template = ResponseTemplateBuilder.Build(questionName, response.QuestionType, response.QuestionClass,
            rcode, authenticData, records, cap);
        return template is null ? null : new ClassifiedResponse(kind, ttl, template);
    }

    private static uint MinimumTtl(List<DnsRecord> records)
    {
        uint minimum = uint.MaxValue;
        foreach (DnsRecord record in records)
        {
            minimum = Math.Min(minimum, record.Ttl);
        }

        return minimum == uint.MaxValue ? 0 : minimum;
    }

    /// <summary>The MINIMUM field: the last 4 bytes of the (decompressed) SOA RDATA.</summary>
    private static uint SoaMinimum(DnsRecord soa) => BinaryPrimitives.ReadUInt32BigEndian(soa.Data.AsSpan(soa.Data.Length - 4));
}
