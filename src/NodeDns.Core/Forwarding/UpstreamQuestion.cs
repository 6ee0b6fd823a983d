using System.Buffers.Binary;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// A question to ask upstream: the name as the first client sent it, type, class and the client's DO and CD bits.
/// Builds the wire query (fresh CSPRNG ID, RD, EDNS 1232) and decides whether a reply answers it (RFC 5452 §9.1).
/// </summary>
public sealed class UpstreamQuestion
{
    public UpstreamQuestion(byte[] name, ushort type, ushort @class, bool dnssecOk, bool checkingDisabled, bool useEdns = true)
    {
        UseEdns = useEdns;
        Name = name;
        Type = type;
        Class = @class;
        DnssecOk = dnssecOk;
        CheckingDisabled = checkingDisabled;
    }

    public byte[] Name { get; }
    public ushort Type { get; }
    public ushort Class { get; }
    public bool DnssecOk { get; }
    public bool CheckingDisabled { get; }

    /// <summary>False for the one retry after an upstream rejected EDNS with FORMERR or NOTIMP (RFC 6891 §7).</summary>
    public bool UseEdns { get; }

    public UpstreamQuestion WithoutEdns() => new(Name, Type, Class, dnssecOk: false, CheckingDisabled, useEdns: false);

    public int QueryLength => DnsLimits.HeaderLength + Name.Length + 4 + DnsLimits.EmptyOptRecordLength;

    public static ushort NewId() => SecureRandom.NextUInt16();

    /// <summary>Writes the query with <paramref name="id"/> into <paramref name="destination"/>; returns its length.</summary>
    public int WriteQuery(ushort id, Span<byte> destination)
    {
        DnsHeader.SetId(destination, id);
        DnsHeader.SetFlags(destination, (ushort)(DnsHeader.RdBit | (CheckingDisabled ? DnsHeader.CdBit : 0)));
        DnsHeader.SetCounts(destination, 1, 0, 0, UseEdns ? 1 : 0);
        int position = DnsLimits.HeaderLength;
        Name.CopyTo(destination[position..]);
        position += Name.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination[position..], Type);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(position + 2)..], Class);
        position += 4;
        return UseEdns ? position + EdnsWriter.WriteOpt(destination[position..], DnssecOk) : position;
    }

    /// <summary>A reply answers this question when it is a well-formed response with our ID and the same question.</summary>
    public bool TryAccept(ReadOnlySpan<byte> reply, ushort id, out DnsResponseMessage response)
    {
        response = null!;
        return reply.Length >= DnsLimits.HeaderLength
            && DnsHeader.Id(reply) == id
            && ResponseReader.TryRead(reply, out response)
            && response.QuestionType == Type
            && response.QuestionClass == Class
            && DnsName.EqualsIgnoreCase(response.QuestionName, Name);
    }

    public override string ToString() => $"{DnsName.ToText(Name)} {Type}";
}
