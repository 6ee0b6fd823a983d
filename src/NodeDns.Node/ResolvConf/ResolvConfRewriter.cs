using System.Net;

namespace NodeDns.Node.ResolvConf;

/// <summary>
/// Points a resolv.conf at NodeDns: the given nameservers first, then up to <c>keep</c> of the old ones as a
/// fallback, and everything else (search, domain, options, sortlist, comments, unknown lines) kept in place.
/// Applying it to its own output changes nothing.
/// </summary>
public static class ResolvConfRewriter
{
    /// <summary>glibc reads at most three nameservers (MAXNS).</summary>
    public const int MaxNameservers = 3;

    public static ResolvConfFile Rewrite(ResolvConfFile original, IReadOnlyList<IPAddress> nameservers, int keep)
    {
        string[] wanted = [.. nameservers.Select(a => a.ToString())];
        string[] kept = [.. original.Nameservers
            .Where(n => IPAddress.TryParse(n.Split('%')[0], out _) && !wanted.Contains(Normalize(n))) // glibc ignores the rest
            .Distinct()
            .Take(Math.Max(0, Math.Min(keep, MaxNameservers - wanted.Length)))];
        var lines = new List<ResolvLine>();
        bool placed = false;
        foreach (ResolvLine line in original.Lines)
        {
            if (line.Kind != ResolvLineKind.Nameserver)
            {
                lines.Add(line);
                continue;
            }

            if (!placed)
            {
                lines.AddRange(wanted.Concat(kept).Select(Nameserver));
                placed = true;
            }
        }

        if (!placed)
        {
            int firstNonComment = lines.FindIndex(l => l.Kind is not (ResolvLineKind.Comment or ResolvLineKind.Blank));
            lines.InsertRange(firstNonComment < 0 ? lines.Count : firstNonComment, wanted.Concat(kept).Select(Nameserver));
        }

        return new ResolvConfFile(lines);
    }

    private static ResolvLine Nameserver(string address) => new(ResolvLineKind.Nameserver, "nameserver " + address, [address]);

    private static string Normalize(string address) => IPAddress.TryParse(address.Split('%')[0], out IPAddress? parsed) ? parsed.ToString() : address;
}
