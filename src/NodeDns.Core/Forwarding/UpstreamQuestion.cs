using System.Buffers.Binary;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

public enum ReplyMatch : byte
{
    /// <summary>Not a reply to this question: ignored, the wait goes on.</summary>
    Foreign,

    /// <summary>Our ID and question, but more records than a message may hold here: the try fails.</summary>
    TooLarge,

    Answer,
}

/// <summary>An upstream answered the question with a message too large to use.</summary>
public sealed class TooLargeReplyException(string message) : IOException(message);

/// <summary>
/// A question to ask upstream: the name as the first client sent it, type, class and the client's DO and CD bits.
/// Builds the wire query (fresh CSPRNG ID, RD, EDNS 1232) and decides whether a reply answers it (RFC 5452 §9.1).
/// The forwarder keeps its own copy for each question in flight, which it reuses (see <see cref="CopyFrom"/>).
/// </summary>
public sealed class UpstreamQuestion
{
    private readonly byte[] _name;
    private int _nameLength;

    public UpstreamQuestion(byte[] name, ushort type, ushort @class, bool dnssecOk, bool checkingDisabled, bool useEdns = true)
    {
        _name = name;
        _nameLength = name.Length;
        SetFields(type, @class, dnssecOk, checkingDisabled, useEdns);
    }

    /// <summary>An empty question to copy others into.</summary>
    internal UpstreamQuestion() => _name = new byte[DnsLimits.MaxNameLength];

    public ReadOnlySpan<byte> Name => _name.AsSpan(0, _nameLength);
    public ushort Type { get; private set; }
    public ushort Class { get; private set; }
    public bool DnssecOk { get; private set; }
    public bool CheckingDisabled { get; private set; }

    /// <summary>False for the one retry after an upstream rejected EDNS with FORMERR or NOTIMP (RFC 6891 §7).</summary>
    public bool UseEdns { get; private set; }

    public UpstreamQuestion WithoutEdns() => new(Name.ToArray(), Type, Class, dnssecOk: false, CheckingDisabled, useEdns: false);

    /// <summary>Makes this question a copy of <paramref name="question"/>; for a question made with the empty constructor.</summary>
    internal void CopyFrom(UpstreamQuestion question) =>
        Set(question.Name, question.Type, question.Class, question.DnssecOk, question.CheckingDisabled, question.UseEdns);

    /// <summary>Makes this question ask for <paramref name="name"/>; for a question made with the empty constructor.</summary>
    internal void Set(ReadOnlySpan<byte> name, ushort type, ushort @class, bool dnssecOk, bool checkingDisabled, bool useEdns = true)
    {
        name.CopyTo(_name);
        _nameLength = name.Length;
        SetFields(type, @class, dnssecOk, checkingDisabled, useEdns);
    }

    private void SetFields(ushort type, ushort @class, bool dnssecOk, bool checkingDisabled, bool useEdns)
    {
        Type = type;
        Class = @class;
        DnssecOk = dnssecOk;
        CheckingDisabled = checkingDisabled;
        UseEdns = useEdns;
    }

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

    /// <summary>
    /// Whether a reply answers this question: a well-formed response with our ID and the same question does; one with
    /// our ID and question but more records than we read is <see cref="ReplyMatch.TooLarge"/> (that try fails at once
    /// rather than waiting for the deadline); anything else is ignored, as a forgery would be (RFC 5452 §9.1).
    /// </summary>
    public ReplyMatch Match(ReadOnlySpan<byte> reply, ushort id, out DnsResponseMessage response)
    {
        response = null!;
        if (reply.Length < DnsLimits.HeaderLength || DnsHeader.Id(reply) != id || (DnsHeader.Flags(reply) & DnsHeader.QrBit) == 0)
        {
            return ReplyMatch.Foreign;
        }

        if (ResponseReader.TryRead(reply, out response))
        {
            if (IsThisQuestion(response.QuestionName, response.QuestionType, response.QuestionClass))
            {
                return ReplyMatch.Answer;
            }

            response.Return();
            response = null!;
        }

        int records = DnsHeader.AnswerCount(reply) + DnsHeader.AuthorityCount(reply) + DnsHeader.AdditionalCount(reply);
        Span<byte> name = stackalloc byte[DnsLimits.MaxNameLength];
        return records > DnsLimits.MaxRecordsPerMessage && DnsHeader.QuestionCount(reply) == 1
            && DnsName.TryRead(reply, DnsLimits.HeaderLength, name, lowerCase: false, out int end, out int nameLength) && end + 4 <= reply.Length
            && IsThisQuestion(name[..nameLength], BinaryPrimitives.ReadUInt16BigEndian(reply[end..]), BinaryPrimitives.ReadUInt16BigEndian(reply[(end + 2)..]))
            ? ReplyMatch.TooLarge
            : ReplyMatch.Foreign;
    }

    private bool IsThisQuestion(ReadOnlySpan<byte> name, ushort type, ushort @class) =>
        type == Type && @class == Class && DnsName.EqualsIgnoreCase(name, Name);

    public override string ToString() => $"{DnsName.ToText(Name)} {Type}";
}
