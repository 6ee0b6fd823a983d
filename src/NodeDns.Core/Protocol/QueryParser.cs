using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>What to do with a client query after parsing it.</summary>
public enum QueryVerdict : byte
{
    /// <summary>A well-formed standard query that can be answered from cache or forwarded.</summary>
    Resolve,

    /// <summary>Not worth an answer: shorter than a header, or a response (QR=1, avoids reflection loops).</summary>
    Drop,
    FormErr,
    NotImp,
    Refused,
    BadVers,
}

/// <summary>The facts of a client query the pipeline needs, read in place without allocating.</summary>
public struct QueryInfo
{
    public ushort Id;
    public ushort Flags;
    public ushort Type;
    public ushort Class;

    /// <summary>Offset just after the question section (header + name + type + class); 0 when it did not parse.</summary>
    public int QuestionEnd;

    /// <summary>Length of the cache key written to the caller's key buffer.</summary>
    public int KeyLength;
    public bool HasOpt;
    public bool DnssecOk;
    public ushort UdpPayload;
    public byte EdnsVersion;

    /// <summary>When processing began (<see cref="TimeProvider.GetTimestamp"/>); set by the serving pipeline, not the parser.</summary>
    public long ReceivedAt;

    public readonly bool CheckingDisabled => (Flags & DnsHeader.CdBit) != 0;
    public readonly int NameLength => QuestionEnd - DnsLimits.HeaderLength - 4;

    /// <summary>The largest UDP response this client accepts, within our own cap (RFC 6891 §6.2.5).</summary>
    public readonly int UdpResponseLimit =>
        !HasOpt ? DnsLimits.ClassicUdpPayload : Math.Clamp((int)UdpPayload, DnsLimits.ClassicUdpPayload, DnsLimits.EdnsUdpPayload);
}

/// <summary>
/// Parses a client query and builds its cache key in one pass. The key is the lower-cased question name in
/// wire form followed by type, class and a byte holding the DO and CD bits, so it is compared in full.
/// </summary>
public static class QueryParser
{
    /// <summary>Key buffer size: the longest name plus type, class and flags (<see cref="CacheKey"/>).</summary>
    public const int MaxKeyLength = CacheKey.MaxLength;

    public const byte KeyFlagDnssecOk = CacheKey.FlagDnssecOk;
    public const byte KeyFlagCheckingDisabled = CacheKey.FlagCheckingDisabled;

    public static QueryVerdict Parse(ReadOnlySpan<byte> message, Span<byte> key, out QueryInfo info)
    {
        info = default;
        if (message.Length < DnsLimits.HeaderLength)
        {
            return QueryVerdict.Drop;
        }

        info.Id = DnsHeader.Id(message);
        info.Flags = DnsHeader.Flags(message);
        if ((info.Flags & DnsHeader.QrBit) != 0)
        {
            return QueryVerdict.Drop;
        }

        if (DnsHeader.Opcode(info.Flags) != 0)
        {
            return QueryVerdict.NotImp;
        }

        if (DnsHeader.QuestionCount(message) != 1)
        {
            return QueryVerdict.FormErr;
        }

        if (!DnsName.TryRead(message, DnsLimits.HeaderLength, key, lowerCase: true, out int nameEnd, out int nameLength)
            || nameEnd + 4 > message.Length)
        {
            return QueryVerdict.FormErr;
        }

        info.Type = BinaryPrimitives.ReadUInt16BigEndian(message[nameEnd..]);
        info.Class = BinaryPrimitives.ReadUInt16BigEndian(message[(nameEnd + 2)..]);
        info.QuestionEnd = nameEnd + 4;

        if (!TryReadRecords(message, ref info))
        {
            return QueryVerdict.FormErr;
        }

        if (info.HasOpt && info.EdnsVersion > 0)
        {
            return QueryVerdict.BadVers;
        }

        switch (info.Type)
        {
            case DnsType.OPT:
                return QueryVerdict.FormErr;
            case DnsType.AXFR or DnsType.IXFR:
                return QueryVerdict.Refused;
            case DnsType.MAILA or DnsType.MAILB:
                return QueryVerdict.NotImp;
        }

        if (info.Class != DnsClass.IN)
        {
            return QueryVerdict.Refused; // CHAOS (version.bind), NONE and ANY are never forwarded
        }

        info.KeyLength = CacheKey.WriteSuffix(key, nameLength, info.Type, info.Class, info.DnssecOk, info.CheckingDisabled);
        return QueryVerdict.Resolve;
    }

    /// <summary>Walks answer, authority and additional records; at most one OPT, only in additional, owned by the root.</summary>
    private static bool TryReadRecords(ReadOnlySpan<byte> message, ref QueryInfo info)
    {
        int position = info.QuestionEnd;
        int answers = DnsHeader.AnswerCount(message);
        int authority = DnsHeader.AuthorityCount(message);
        int total = answers + authority + DnsHeader.AdditionalCount(message);
        for (int i = 0; i < total; i++)
        {
            int owner = position;
            if (!DnsName.TrySkip(message, position, out position) || position + 10 > message.Length)
            {
                return false;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 8)..]);
            int rdata = position + 10;
            if (rdata + rdLength > message.Length)
            {
                return false;
            }

            if (type == DnsType.OPT)
            {
                bool inAdditional = i >= answers + authority;
                if (!inAdditional || info.HasOpt || message[owner] != 0 || !OptionsAreWellFormed(message.Slice(rdata, rdLength)))
                {
                    return false;
                }

                info.HasOpt = true;
                info.UdpPayload = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
                info.EdnsVersion = message[position + 5];
                info.DnssecOk = (message[position + 6] & 0x80) != 0;
            }

            position = rdata + rdLength;
        }

        return true;
    }

    private static bool OptionsAreWellFormed(ReadOnlySpan<byte> options)
    {
        while (!options.IsEmpty)
        {
            if (options.Length < 4)
            {
                return false;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(options[2..]);
            if (4 + length > options.Length)
            {
                return false;
            }

            options = options[(4 + length)..];
        }

        return true;
    }
}
