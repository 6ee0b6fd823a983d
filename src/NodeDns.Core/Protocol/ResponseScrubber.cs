namespace NodeDns.Protocol;

/// <summary>
/// Keeps only what answers the question (RFC 2181 §5.4.1; CP-06, CP-07): answer records on the chain of CNAMEs
/// that starts at the question name (and DNAMEs above it), authority records owned by an ancestor of a name on
/// that chain, and the additional section as it came. Nothing is ever indexed under another name. Bounded: at most
/// <see cref="MaxChainLength"/> CNAMEs are followed and at most <see cref="MaxSignaturesPerRrset"/> RRSIGs kept per RRset.
/// </summary>
public static class ResponseScrubber
{
    /// <summary>
    /// CNAME records followed from the question name, as unbound's iter-scrub-cname (11): the answer ends with the
    /// last CNAME kept, and a client that wants more asks for its target.
    /// </summary>
    public const int MaxChainLength = 11;

    /// <summary>RRSIGs kept per owner, section and covered type: more only cost validators work (KeyTrap-style floods).</summary>
    public const int MaxSignaturesPerRrset = 4;

    private const ushort Rrsig = 46;

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
            if (wanted && !(record.Type == Rrsig && SignaturesBefore(kept, record) >= MaxSignaturesPerRrset))
            {
                kept.Add(record);
            }
        }

        return kept;
    }

    /// <summary>RRSIGs already kept for the same owner, section and covered type as <paramref name="signature"/>.</summary>
    private static int SignaturesBefore(List<DnsRecord> kept, DnsRecord signature)
    {
        int count = 0;
        foreach (DnsRecord other in kept)
        {
            if (other.Type == Rrsig && other.Section == signature.Section && Covered(other) == Covered(signature)
                && DnsName.EqualsIgnoreCase(other.Owner, signature.Owner))
            {
                count++;
            }
        }

        return count;
    }

    private static int Covered(DnsRecord signature) => signature.Data.Length >= 2 ? (signature.Data[0] << 8) | signature.Data[1] : -1;

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
