using System.Buffers.Binary;
using System.Text;

namespace NodeDns.Protocol;

/// <summary>
/// Encodes a question and a list of records into a <see cref="ResponseTemplate"/>, with name compression
/// (owner names and names inside RFC 1035 RDATA only; RFC 3597 §4). Miss path only.
/// </summary>
public static class ResponseTemplateBuilder
{
    /// <summary>Leaves room for an OPT record so the largest template still fits a TCP message.</summary>
    private const int MaxTemplateLength = DnsLimits.MaxMessageLength - DnsLimits.EmptyOptRecordLength;

    /// <param name="ttlCap">Every record's TTL is stored as min(its TTL, this cap).</param>
    /// <returns>null when the encoded message would be too long.</returns>
    public static ResponseTemplate? Build(ReadOnlySpan<byte> questionName, ushort questionType, ushort questionClass,
        int rcode, bool authenticData, IReadOnlyList<DnsRecord> records, uint ttlCap)
    {
        var writer = new CompressingWriter();
        writer.Skip(DnsLimits.HeaderLength);
        writer.WriteName(questionName);
        writer.WriteUInt16(questionType);
        writer.WriteUInt16(questionClass);
        int questionEnd = writer.Length;

        var layout = new int[records.Count];
        int answers = 0;
        int authority = 0;
        for (int i = 0; i < records.Count; i++)
        {
            DnsRecord record = records[i];
            answers += record.Section == DnsSection.Answer ? 1 : 0;
            authority += record.Section == DnsSection.Authority ? 1 : 0;
            writer.WriteName(record.Owner);
            writer.WriteUInt16(record.Type);
            writer.WriteUInt16(record.Class);
            int ttlOffset = writer.Length;
            writer.WriteUInt32(Math.Min(record.Ttl, ttlCap));
            int lengthOffset = writer.Length;
            writer.WriteUInt16(0);
            WriteData(writer, record);
            int dataLength = writer.Length - lengthOffset - 2;
            if (writer.Length > MaxTemplateLength)
            {
                return null;
            }

            writer.PatchUInt16(lengthOffset, (ushort)dataLength);
            layout[i] = (writer.Length << 16) | ttlOffset;
        }

        byte[] wire = writer.ToArray();
        DnsHeader.SetCounts(wire, 1, answers, authority, records.Count - answers - authority);
        ushort flags = (ushort)((rcode & 0xF) | (authenticData ? DnsHeader.AdBit : 0));
        return new ResponseTemplate(wire, questionEnd, layout, answers, authority, flags);
    }

    private static void WriteData(CompressingWriter writer, DnsRecord record)
    {
        int[]? fields = RdataNames.Layout(record.Type);
        if (fields is null)
        {
            writer.WriteBytes(record.Data);
            return;
        }

        bool compress = RdataNames.MayCompress(record.Type);
        ReadOnlySpan<byte> data = record.Data;
        int position = 0;
        foreach (int field in fields)
        {
            if (field == RdataNames.Name)
            {
                int nameLength = NameLength(data[position..]);
                writer.WriteName(data.Slice(position, nameLength), compress);
                position += nameLength;
            }
            else
            {
                int size = field == RdataNames.Rest ? data.Length - position : field;
                writer.WriteBytes(data.Slice(position, size));
                position += size;
            }
        }
    }

    private static int NameLength(ReadOnlySpan<byte> name)
    {
        int position = 0;
        while (name[position] != 0)
        {
            position += 1 + name[position];
        }

        return position + 1;
    }

    private sealed class CompressingWriter
    {
        private readonly Dictionary<string, int> _suffixes = new(StringComparer.Ordinal);
        private byte[] _buffer = new byte[512];

        public int Length { get; private set; }

        public void Skip(int count)
        {
            Ensure(count);
            Length += count;
        }

        public void WriteName(ReadOnlySpan<byte> name, bool compress = true)
        {
            int position = 0;
            while (name[position] != 0)
            {
                string suffix = LowerCaseKey(name[position..]);
                if (compress && _suffixes.TryGetValue(suffix, out int pointer))
                {
                    WriteUInt16((ushort)(0xC000 | pointer));
                    return;
                }

                if (Length < 0x3FFF)
                {
                    _suffixes.TryAdd(suffix, Length);
                }

                int labelLength = 1 + name[position];
                WriteBytes(name.Slice(position, labelLength));
                position += labelLength;
            }

            WriteBytes([0]);
        }

        public void WriteUInt16(ushort value)
        {
            Ensure(2);
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(Length), value);
            Length += 2;
        }

        public void WriteUInt32(uint value)
        {
            Ensure(4);
            BinaryPrimitives.WriteUInt32BigEndian(_buffer.AsSpan(Length), value);
            Length += 4;
        }

        public void PatchUInt16(int offset, ushort value) =>
            BinaryPrimitives.WriteUInt16BigEndian(_buffer.AsSpan(offset), value);

        public void WriteBytes(ReadOnlySpan<byte> bytes)
        {
            Ensure(bytes.Length);
            bytes.CopyTo(_buffer.AsSpan(Length));
            Length += bytes.Length;
        }

        public byte[] ToArray() => _buffer.AsSpan(0, Length).ToArray();

        private void Ensure(int count)
        {
            if (Length + count > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
            }
        }

        private static string LowerCaseKey(ReadOnlySpan<byte> name)
        {
            Span<byte> lower = stackalloc byte[name.Length];
            for (int i = 0; i < name.Length; i++)
            {
                lower[i] = DnsName.ToLower(name[i]);
            }

            return Encoding.Latin1.GetString(lower);
        }
    }
}
