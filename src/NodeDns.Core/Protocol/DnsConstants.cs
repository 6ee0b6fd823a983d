namespace NodeDns.Protocol;

/// <summary>Sizes and limits of the DNS wire format (RFC 1035, RFC 6891).</summary>
public static class DnsLimits
{
    public const int HeaderLength = 12;
    public const int MaxNameLength = 255;
    public const int MaxLabelLength = 63;
    public const int MaxMessageLength = 65535;

    /// <summary>Classic UDP limit for clients without EDNS (RFC 1035 §4.2.1).</summary>
    public const int ClassicUdpPayload = 512;

    /// <summary>Our own advertised and accepted UDP payload size (DNS Flag Day 2020).</summary>
    public const int EdnsUdpPayload = 1232;

    /// <summary>Length of an OPT record with an empty RDATA: root owner, type, class, TTL, RDLENGTH.</summary>
    public const int EmptyOptRecordLength = 11;

    /// <summary>Upper bound on records in one message we accept from an upstream (UR-07).</summary>
    public const int MaxRecordsPerMessage = 1000;
}

public static class DnsType
{
    public const ushort A = 1;
    public const ushort NS = 2;
    public const ushort CNAME = 5;
    public const ushort SOA = 6;
    public const ushort PTR = 12;
    public const ushort MX = 15;
    public const ushort TXT = 16;
    public const ushort AAAA = 28;
    public const ushort SRV = 33;
    public const ushort DNAME = 39;
    public const ushort OPT = 41;
    public const ushort IXFR = 251;
    public const ushort AXFR = 252;
    public const ushort MAILB = 253;
    public const ushort MAILA = 254;
    public const ushort ANY = 255;
}

public static class DnsClass
{
    public const ushort IN = 1;
}

public static class DnsRcode
{
    public const int NoError = 0;
    public const int FormErr = 1;
    public const int ServFail = 2;
    public const int NxDomain = 3;
    public const int NotImp = 4;
    public const int Refused = 5;

    /// <summary>Extended rcode 16 (RFC 6891 §6.1.3): upper 8 bits go in the OPT TTL, lower 4 in the header.</summary>
    public const int BadVers = 16;

    /// <summary>Rcodes that say the server could not answer, as opposed to an answer (RFC 9520 §2).</summary>
    public static bool IsServerFailure(int rcode) => rcode is ServFail or Refused or NotImp or FormErr;

    public static string Name(int rcode) => rcode switch
    {
        NoError => "NOERROR",
        FormErr => "FORMERR",
        ServFail => "SERVFAIL",
        NxDomain => "NXDOMAIN",
        NotImp => "NOTIMP",
        Refused => "REFUSED",
        BadVers => "BADVERS",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => "RCODE" + rcode.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
