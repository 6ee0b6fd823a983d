namespace NodeDns.Protocol;

/// <summary>
/// Keeps only what answers the question (RFC 2181 §5.4.1; CP-06, CP-07): answer records on the chain of CNAMEs
/// that starts at the question name (and DNAMEs above it), authority records owned by an ancestor of a name on
/// that chain, and the additional section as it came. Nothing is ever indexed under another name.
/// </summary>
public static class ResponseScrubber
{
    /// <summary>Longest CNAME chain followed (unbound's iter-scrub-cname default is 11).</summary>
    public const int MaxChainLength = 16;

    public static List<DnsRecord> Scrub(IReadOnlyList<DnsRecord> records, ReadOnlySpan<byte> questionName)
    {
        var chain = new List<byte[]> { questionName.ToArray() };
        var keep = new bool[records.Count];
        bool grew = true;
        while (grew)
        {
            grew = false;
            for (int i = 0; i < records.Count; i++)
            {
                DnsRecord record = records[i];
                if (keep[i] || record.Section != DnsSection.Answer || !IsOnChain(record, chain))
                {
                    continue;
                }

                keep[i] = true;
                if (record.Type == DnsType.CNAME && chain.Count < MaxChainLength && !ChainHas(chain, record.Data))
                {
                    chain.Add(record.Data);
                    grew = true;
                }
            }
        }

        var kept = new List<DnsRecord>(records.Count);
        for (int i = 0; i < records.Count; i++)
        {
            DnsRecord record = records[i];
            bool wanted = record.Section switch
            {
                DnsSection.Answer => keep[i],
                DnsSection.Authority => ChainHasDescendantOf(chain, record.Owner, includingItself: true),
                _ => true,
            };
            if (wanted)
            {
                kept.Add(record);
            }
        }

        return kept;
    }

    private static bool IsOnChain(DnsRecord record, List<byte[]> chain) =>
        record.Type == DnsType.DNAME ? ChainHasDescendantOf(chain, record.Owner, includingItself: false) : ChainHas(chain, record.Owner);

    private static bool ChainHas(List<byte[]> chain, byte[] name)
    {
        foreach (byte[] link in chain)
        {
            if (DnsName.EqualsIgnoreCase(link, name))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a name on the chain is at or below <paramref name="ancestor"/>.</summary>
    private static bool ChainHasDescendantOf(List<byte[]> chain, byte[] ancestor, bool includingItself)
    {
        foreach (byte[] link in chain)
        {
            if (DnsName.IsSubdomainOf(link, ancestor) && (includingItself || !DnsName.EqualsIgnoreCase(link, ancestor)))
            {
                return true;
            }
        }

        return false;
    }
}
