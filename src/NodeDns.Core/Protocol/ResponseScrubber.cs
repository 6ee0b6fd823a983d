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

    /// <summary>Marks in <paramref name="keep"/> (one flag per record) the records of <paramref name="response"/> to keep.</summary>
    public static void Scrub(DnsResponseMessage response, ReadOnlySpan<byte> questionName, Span<bool> keep)
    {
        ReadOnlySpan<ResponseRecord> records = response.Records;
        keep = keep[..records.Length];
        keep.Clear();
        var chain = new Chain(response, questionName, stackalloc int[MaxChainLength]);
        bool grew = true;
        while (grew)
        {
            grew = false;
            for (int i = 0; i < records.Length; i++)
            {
                ref readonly ResponseRecord record = ref records[i];
                if (keep[i] || record.Section != DnsSection.Answer || !chain.Holds(record))
                {
                    continue;
                }

                keep[i] = true;
                if (record.Type == DnsType.CNAME && chain.Length < MaxChainLength && !chain.Has(response.Data(record)))
                {
                    chain.Add(i);
                    grew = true;
                }
            }
        }

        for (int i = 0; i < records.Length; i++)
        {
            ref readonly ResponseRecord record = ref records[i];
            bool wanted = record.Section switch
            {
                DnsSection.Answer => keep[i],
                DnsSection.Authority => chain.HasDescendantOf(response.Owner(record), includingItself: true),
                _ => true,
            };
            keep[i] = wanted && !(record.Type == Rrsig && SignaturesBefore(response, keep[..i], record) >= MaxSignaturesPerRrset);
        }
    }

    /// <summary>RRSIGs already kept for the same owner, section and covered type as <paramref name="signature"/>.</summary>
    private static int SignaturesBefore(DnsResponseMessage response, ReadOnlySpan<bool> kept, in ResponseRecord signature)
    {
        ReadOnlySpan<ResponseRecord> records = response.Records;
        int covered = Covered(response, signature);
        int count = 0;
        for (int i = 0; i < kept.Length; i++)
        {
            ref readonly ResponseRecord other = ref records[i];
            if (kept[i] && other.Type == Rrsig && other.Section == signature.Section && Covered(response, other) == covered
                && DnsName.EqualsIgnoreCase(response.Owner(other), response.Owner(signature)))
            {
                count++;
            }
        }

        return count;
    }

    private static int Covered(DnsResponseMessage response, in ResponseRecord signature)
    {
        ReadOnlySpan<byte> data = response.Data(signature);
        return data.Length >= 2 ? (data[0] << 8) | data[1] : -1;
    }

    /// <summary>The names from the question name along the CNAMEs followed: the question, then each CNAME's target.</summary>
    private ref struct Chain(DnsResponseMessage response, ReadOnlySpan<byte> questionName, Span<int> cnames)
    {
        private readonly ReadOnlySpan<byte> _questionName = questionName;
        private readonly Span<int> _cnames = cnames;
        private int _cnameCount;

        /// <summary>Names on the chain, the question name included.</summary>
        public readonly int Length => 1 + _cnameCount;

        public void Add(int cname) => _cnames[_cnameCount++] = cname;

        public readonly bool Holds(in ResponseRecord record) =>
            record.Type == DnsType.DNAME ? HasDescendantOf(response.Owner(record), includingItself: false) : Has(response.Owner(record));

        public readonly bool Has(ReadOnlySpan<byte> name)
        {
            for (int i = 0; i < Length; i++)
            {
                if (DnsName.EqualsIgnoreCase(Link(i), name))
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>Whether a name on the chain is at or below <paramref name="ancestor"/>.</summary>
        public readonly bool HasDescendantOf(ReadOnlySpan<byte> ancestor, bool includingItself)
        {
            for (int i = 0; i < Length; i++)
            {
                ReadOnlySpan<byte> link = Link(i);
                if (DnsName.IsSubdomainOf(link, ancestor) && (includingItself || !DnsName.EqualsIgnoreCase(link, ancestor)))
                {
                    return true;
                }
            }

            return false;
        }

        private readonly ReadOnlySpan<byte> Link(int index) => index == 0 ? _questionName : response.Data(response.Records[_cnames[index - 1]]);
    }
}
