using System.Net;
using NodeDns.Caching;
using NodeDns.Node.ResolvConf;
using NodeDns.Protocol;

namespace NodeDns.Fuzz;

/// <summary>
/// The fuzz targets. Each takes arbitrary bytes and must never throw, hang or write out of bounds; AFL++ reports a
/// crash when one does. A crash input found here goes to tests/fuzz/regressions/TARGET/ (replayed by tests/NodeDns.Core.Tests/Fuzz/).
/// </summary>
public static class Targets
{
    private static readonly DnsCache Cache = new(new CacheOptions { PositiveEntries = 1000, NegativeEntries = 1000 }, TimeProvider.System);

    /// <summary>A client query: parse, build the key, and write an error answer or a cached answer to it.</summary>
    public static void Query(ReadOnlySpan<byte> input)
    {
        Span<byte> key = stackalloc byte[QueryParser.MaxKeyLength];
        QueryVerdict verdict = QueryParser.Parse(input, key, out QueryInfo info);
        byte[] response = new byte[DnsLimits.MaxMessageLength];
        if (verdict is not (QueryVerdict.Resolve or QueryVerdict.Drop))
        {
            ErrorResponse.Write(input, info, ErrorResponse.RcodeFor(verdict), response);
        }
        else if (verdict == QueryVerdict.Resolve && Cache.TryGetFresh(key[..info.KeyLength], TimeProvider.System.GetTimestamp(), out CacheEntry entry))
        {
            entry.TryWrite(input, info, 0, info.UdpResponseLimit, response);
        }
    }

    /// <summary>
    /// An upstream response: read strictly, scrub, classify, encode, insert, and serve it to a matching query; the
    /// served answer must read back to exactly the scrubbed records (a malformed answer is a crash, as AFL sees it).
    /// </summary>
    public static void Response(ReadOnlySpan<byte> input)
    {
        if (!ResponseReader.TryRead(input, out DnsResponseMessage message) || message.QuestionName.Length > DnsLimits.MaxNameLength)
        {
            return;
        }

        byte[] lowerName = [.. message.QuestionName.ToArray().Select(DnsName.ToLower)];
        ClassifiedResponse? classified = ResponseClassifier.Classify(message, lowerName, TtlPolicy.Default);
        if (classified is null)
        {
            return;
        }

        byte[] key = [.. lowerName, (byte)(message.QuestionType >> 8), (byte)message.QuestionType, (byte)(message.QuestionClass >> 8), (byte)message.QuestionClass, 0];
        CacheEntry stored = default;
        if (classified.Kind is ResponseKind.Positive or ResponseKind.Negative)
        {
            stored = Cache.Insert(key, classified.Template, classified.Kind == ResponseKind.Positive ? EntryKind.Positive : EntryKind.Negative, classified.Ttl);
        }

        byte[] query = [0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, .. message.QuestionName.ToArray(), (byte)(message.QuestionType >> 8), (byte)message.QuestionType,
            (byte)(message.QuestionClass >> 8), (byte)message.QuestionClass];
        Span<byte> queryKey = stackalloc byte[QueryParser.MaxKeyLength];
        if (QueryParser.Parse(query, queryKey, out QueryInfo info) == QueryVerdict.Resolve)
        {
            byte[] served = new byte[DnsLimits.MaxMessageLength];
            classified.Template.Write(query, info, 1, DnsLimits.ClassicUdpPayload, served);
            int length = classified.Template.Write(query, info, 1, DnsLimits.MaxMessageLength, served);
            if (!ResponseReader.TryRead(served.AsSpan(0, length), out DnsResponseMessage back)
                || !SameRecords(Scrubbed(message, lowerName), back.ToRecords()))
            {
                throw new InvalidOperationException("the served answer does not read back to the records that went in");
            }

            // The cache's copy in native memory serves exactly what the template serves.
            if (stored.WireLength > 0 && Cache.TryGetFresh(key, TimeProvider.System.GetTimestamp(), out CacheEntry found))
            {
                byte[] fromCache = new byte[DnsLimits.MaxMessageLength];
                int cachedLength = found.TryWrite(query, info, 1, DnsLimits.MaxMessageLength, fromCache);
                if (cachedLength != length || !fromCache.AsSpan(0, length).SequenceEqual(served.AsSpan(0, length)))
                {
                    throw new InvalidOperationException("the cached answer differs from its template's");
                }
            }
        }
    }

    private static List<DnsRecord> Scrubbed(DnsResponseMessage message, byte[] questionName)
    {
        bool[] keep = new bool[message.Records.Length];
        ResponseScrubber.Scrub(message, questionName, keep);
        return [.. message.ToRecords().Where((_, i) => keep[i])];
    }

    /// <summary>Owner, type, class and RDATA equal, names compared without case (compression may point to another case).</summary>
    private static bool SameRecords(List<DnsRecord> sent, IReadOnlyList<DnsRecord> served)
    {
        if (sent.Count != served.Count)
        {
            return false;
        }

        for (int i = 0; i < sent.Count; i++)
        {
            if (sent[i].Section != served[i].Section || sent[i].Type != served[i].Type || sent[i].Class != served[i].Class
                || !DnsName.EqualsIgnoreCase(sent[i].Owner, served[i].Owner)
                || !sent[i].Data.Select(DnsName.ToLower).SequenceEqual(served[i].Data.Select(DnsName.ToLower)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A resolv.conf: parse it fully and rewrite it; the rewrite must be idempotent.</summary>
    public static void ResolvConf(ReadOnlySpan<byte> input)
    {
        string text = System.Text.Encoding.UTF8.GetString(input);
        ResolvConfFile once = ResolvConfRewriter.Rewrite(ResolvConfFile.Parse(text), [IPAddress.Parse("169.254.20.10")], keep: 1);
        string twice = ResolvConfRewriter.Rewrite(ResolvConfFile.Parse(once.ToString()), [IPAddress.Parse("169.254.20.10")], keep: 1).ToString();
        if (twice != once.ToString())
        {
            throw new InvalidOperationException("resolv.conf rewrite is not idempotent");
        }
    }
}
