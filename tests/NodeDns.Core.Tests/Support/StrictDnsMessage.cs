using System.Buffers.Binary;
using System.Globalization;
using ARSoft.Tools.Net.Dns;

namespace NodeDns.Core.Tests;

/// <summary>A DNS message a strict parser refuses: why, and the bytes.</summary>
public sealed class MalformedDnsMessageException(string reason, byte[] message)
    : Exception($"malformed DNS message: {reason}\n{Convert.ToHexString(message)}")
{
    public string Reason { get; } = reason;
}

/// <summary>One record as the strict parser read it: names lower-cased and fully decompressed, also inside RDATA.</summary>
public sealed record StrictRecord(int Section, string Owner, ushort Type, ushort Class, uint Ttl, byte[] Data)
{
    public override string ToString() => $"{Section} {Owner} {Type} {Class} {Ttl} {Convert.ToHexString(Data)}";
}

/// <summary>
/// Test-only oracle for every answer NodeDns sends, written apart from the product's reader: a strict walk of the
/// message (labels ≤ 63, names ≤ 255, every compression pointer strictly before the name it is part of, RDATA names
/// inside their RDATA, counts matching, nothing left over) followed by ARSoft.Tools.Net's parser, which must accept
/// the message and see the same records. Either refusing it fails the test that received it.
/// </summary>
public static class StrictDnsMessage
{
    /// <summary>Name-bearing RDATA layouts: a positive number is that many opaque bytes, 0 a name, -1 the rest.</summary>
    private static readonly Dictionary<ushort, int[]> NameLayouts = new()
    {
        [2] = [0], [3] = [0], [4] = [0], [5] = [0], [7] = [0], [8] = [0], [9] = [0], [12] = [0], [39] = [0], // NS MD MF CNAME MB MG MR PTR DNAME
        [15] = [2, 0], [18] = [2, 0], [21] = [2, 0], [36] = [2, 0], // MX AFSDB RT KX
        [14] = [0, 0], [17] = [0, 0], // MINFO RP
        [6] = [0, 0, 20], // SOA
        [33] = [6, 0], // SRV
        [26] = [2, 0, 0], // PX
    };

    /// <summary>Parses <paramref name="message"/> both ways or throws <see cref="MalformedDnsMessageException"/>.</summary>
    public static (string QuestionName, ushort QuestionType, IReadOnlyList<StrictRecord> Records) Parse(byte[] message)
    {
        var (question, type, records) = Walk(message);
        DnsMessage parsed;
        try
        {
            parsed = DnsMessage.Parse(message);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new MalformedDnsMessageException($"ARSoft.Tools.Net refuses it: {e.GetType().Name}: {e.Message}", message);
        }

        List<DnsRecordBase> arsoft = [.. parsed.AnswerRecords, .. parsed.AuthorityRecords, .. parsed.AdditionalRecords];
        if (arsoft.Count != records.Count)
        {
            throw new MalformedDnsMessageException($"ARSoft.Tools.Net reads {arsoft.Count} records, the strict walk {records.Count}", message);
        }

        for (int i = 0; i < records.Count; i++)
        {
            if (!string.Equals(Dotted(arsoft[i].Name.ToString()), records[i].Owner, StringComparison.OrdinalIgnoreCase)
                || (ushort)arsoft[i].RecordType != records[i].Type)
            {
                throw new MalformedDnsMessageException($"record {i}: ARSoft.Tools.Net reads {arsoft[i].Name} {arsoft[i].RecordType}, the strict walk {records[i]}", message);
            }
        }

        return (question, type, records);
    }

    /// <summary>A name in dotted form, lower case, without the trailing dot ("" for the root).</summary>
    public static string Dotted(string name) => name.TrimEnd('.').ToLowerInvariant();

    private static (string, ushort, List<StrictRecord>) Walk(byte[] message)
    {
        if (message.Length < 12)
        {
            throw new MalformedDnsMessageException("shorter than a header", message);
        }

        int questions = U16(message, 4);
        int total = U16(message, 6) + U16(message, 8) + U16(message, 10);
        if (questions != 1)
        {
            throw new MalformedDnsMessageException($"{questions} questions", message);
        }

        int position = 12;
        string question = ReadName(message, ref position, message.Length, out _);
        Need(message, position + 4, message.Length, "question");
        ushort questionType = U16(message, position);
        position += 4;
        var records = new List<StrictRecord>();
        for (int i = 0; i < total; i++)
        {
            int section = i < U16(message, 6) ? 0 : i < U16(message, 6) + U16(message, 8) ? 1 : 2;
            string owner = ReadName(message, ref position, message.Length, out _);
            Need(message, position + 10, message.Length, $"record {i} header");
            ushort type = U16(message, position);
            ushort @class = U16(message, position + 2);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message.AsSpan(position + 4));
            int length = U16(message, position + 8);
            int start = position + 10;
            int end = start + length;
            Need(message, end, message.Length, $"record {i} RDATA");
            records.Add(new StrictRecord(section, owner, type, @class, ttl, ReadData(message, type, start, end)));
            position = end;
        }

        if (position != message.Length)
        {
            throw new MalformedDnsMessageException($"{message.Length - position} bytes after the last record", message);
        }

        return (question, questionType, records);
    }

    private static byte[] ReadData(byte[] message, ushort type, int start, int end)
    {
        if (!NameLayouts.TryGetValue(type, out int[]? layout))
        {
            return message[start..end];
        }

        var data = new List<byte>();
        int position = start;
        foreach (int field in layout)
        {
            if (field == 0)
            {
                ReadName(message, ref position, end, out byte[] wire);
                data.AddRange(wire);
                continue;
            }

            int size = field < 0 ? end - position : field;
            Need(message, position + size, end, $"RDATA of type {type}");
            data.AddRange(message.AsSpan(position, size));
            position += size;
        }

        if (position != end)
        {
            throw new MalformedDnsMessageException($"RDATA of type {type} has {end - position} bytes after its fields", message);
        }

        return [.. data];
    }

    /// <summary>
    /// Reads a name starting at <paramref name="position"/>, which may not run past <paramref name="limit"/> before
    /// its first pointer. A pointer must lead strictly before the lowest offset this name has read so far, so no name
    /// can loop or point into itself.
    /// </summary>
    private static string ReadName(byte[] message, ref int position, int limit, out byte[] wire)
    {
        var labels = new List<string>();
        var bytes = new List<byte>();
        int lowest = position;
        int cursor = position;
        int end = -1;
        while (true)
        {
            Need(message, cursor + 1, end < 0 ? limit : message.Length, "name");
            byte length = message[cursor];
            if ((length & 0xC0) == 0xC0)
            {
                Need(message, cursor + 2, end < 0 ? limit : message.Length, "pointer");
                int target = ((length & 0x3F) << 8) | message[cursor + 1];
                if (end < 0)
                {
                    end = cursor + 2;
                }

                if (target >= lowest)
                {
                    throw new MalformedDnsMessageException($"pointer at {cursor} to {target} does not lead before {lowest} (loop or forward pointer)", message);
                }

                lowest = target;
                cursor = target;
                continue;
            }

            if ((length & 0xC0) != 0)
            {
                throw new MalformedDnsMessageException($"label type 0x{length:X2} at {cursor}", message);
            }

            Need(message, cursor + 1 + length, end < 0 ? limit : message.Length, "label");
            bytes.Add(length);
            if (length == 0)
            {
                break;
            }

            bytes.AddRange(message.AsSpan(cursor + 1, length));
            labels.Add(System.Text.Encoding.ASCII.GetString(message, cursor + 1, length).ToLowerInvariant());
            cursor += 1 + length;
            if (bytes.Count > 255)
            {
                throw new MalformedDnsMessageException("name longer than 255 bytes", message);
            }
        }

        position = end < 0 ? cursor + 1 : end;
        wire = [.. bytes.Select(b => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b + 32) : b)];
        return string.Join('.', labels);
    }

    private static void Need(byte[] message, int end, int limit, string what)
    {
        if (end > limit)
        {
            throw new MalformedDnsMessageException($"{what} runs past its end ({end.ToString(CultureInfo.InvariantCulture)} > {limit.ToString(CultureInfo.InvariantCulture)})", message);
        }
    }

    private static ushort U16(byte[] message, int offset) => BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(offset));
}
