namespace NodeDns.Protocol;

/// <summary>
/// Where domain names sit inside RDATA of the types that may carry compressed names (RFC 1035 §3.3, RFC 3597 §4).
/// A layout is a list of fields: a positive number is that many opaque bytes, <see cref="Name"/> is a domain name,
/// and <see cref="Rest"/> is the remaining opaque bytes.
/// </summary>
internal static class RdataNames
{
    public const int Name = -1;
    public const int Rest = -2;

    private static readonly int[] SingleName = [Name];
    private static readonly int[] PreferenceAndName = [2, Name];
    private static readonly int[] TwoNames = [Name, Name];
    private static readonly int[] Soa = [Name, Name, 20];
    private static readonly int[] Srv = [6, Name];
    private static readonly int[] Px = [2, Name, Name];

    /// <summary>The layout for <paramref name="type"/>, or null when its RDATA holds no compressible names.</summary>
    public static int[]? Layout(ushort type) => type switch
    {
        DnsType.NS or DnsType.CNAME or DnsType.PTR or DnsType.DNAME or 3 or 4 or 7 or 8 or 9 => SingleName, // MD MF MB MG MR
        DnsType.MX or 18 or 21 or 36 => PreferenceAndName, // AFSDB RT KX
        14 or 17 => TwoNames, // MINFO RP
        DnsType.SOA => Soa,
        DnsType.SRV => Srv,
        26 => Px,
        _ => null,
    };

    /// <summary>Types whose RDATA names we compress when encoding (RFC 3597 §4: only the RFC 1035 types).</summary>
    public static bool MayCompress(ushort type) =>
        type is DnsType.NS or DnsType.CNAME or DnsType.PTR or DnsType.MX or DnsType.SOA or 3 or 4 or 7 or 8 or 9 or 14;
}
