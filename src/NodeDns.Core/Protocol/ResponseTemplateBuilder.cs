using System.Buffers.Binary;
using System.Diagnostics;

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
        CompressingWriter writer = CompressingWriter.ForThisThread();
        writer.Skip(DnsLimits.HeaderLength);
        writer.WriteName(questionName);
        writer.WriteUInt16(questionType);
        writer.WriteUInt16(questionClass);
        int questionEnd = writer.Length;

        Span<int> layout = records.Count <= 64 ? stackalloc int[records.Count] : new int[records.Count];
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

        int wireLength = writer.Length;
        foreach (int record in layout)
        {
            writer.WriteRecordEntry((ushort)(record >>> 16), (ushort)record);
        }

        byte[] data = writer.ToArray();
        DnsHeader.SetCounts(data, 1, answers, authority, records.Count - answers - authority);
        ushort flags = (ushort)((rcode & 0xF) | (authenticData ? DnsHeader.AdBit : 0));
        return new ResponseTemplate(data, wireLength, questionEnd, answers, authority, flags);
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

    /// <summary>
    /// Writes the message, compressing names against the names already written: each uncompressed suffix's offset is
    /// remembered and a later name whose suffix matches (case-insensitively, read back through the buffer) points to
    /// it. No allocation but the buffer; one writer per thread is reused.
    /// </summary>
    private sealed class CompressingWriter
    {
        private const int MaxSuffixes = 256;

        /// <summary>The largest offset a compression pointer can hold (14 bits).</summary>
        private const int MaxPointerTarget = 0x3FFF;

        /// <summary>A name of at most 255 bytes has at most 127 labels of one character.</summary>
        private const int MaxLabelsPerName = DnsLimits.MaxNameLength / 2;

        [ThreadStatic]
        private static CompressingWriter? t_writer;

        private readonly int[] _suffixOffsets = new int[MaxSuffixes];
        private int _suffixCount;
        private byte[] _buffer = new byte[512];

        public int Length { get; private set; }

        public static CompressingWriter ForThisThread()
        {
            CompressingWriter writer = t_writer ??= new CompressingWriter();
            writer.Length = 0;
            writer._suffixCount = 0;
            return writer;
        }

        public void Skip(int count)
        {
            Ensure(count);
            Length += count;
        }

        /// <summary>
        /// Writes <paramref name="name"/>, ending in a pointer to the longest suffix already written when
        /// <paramref name="compress"/> is set. Its own suffixes become pointer targets only once the whole name is
        /// written, so no pointer can lead into a name still being written (a loop) or past <see cref="Length"/>.
        /// </summary>
        public void WriteName(ReadOnlySpan<byte> name, bool compress = true)
        {
            Span<int> ownSuffixes = stackalloc int[MaxLabelsPerName];
            int ownCount = 0;
            int position = 0;
            while (name[position] != 0)
            {
                if (compress && TryFindSuffix(name[position..], out int pointer))
                {
                    WriteUInt16((ushort)(0xC000 | pointer));
                    Remember(ownSuffixes[..ownCount]);
                    return;
                }

                if (Length <= MaxPointerTarget && ownCount < ownSuffixes.Length)
                {
                    ownSuffixes[ownCount++] = Length;
                }

                int labelLength = 1 + name[position];
                WriteBytes(name.Slice(position, labelLength));
                position += labelLength;
            }

            WriteBytes([0]);
            Remember(ownSuffixes[..ownCount]);
        }

        private void Remember(ReadOnlySpan<int> suffixOffsets)
        {
            foreach (int offset in suffixOffsets)
            {
                if (_suffixCount == MaxSuffixes)
                {
                    return;
                }

                _suffixOffsets[_suffixCount++] = offset;
            }
        }

        private bool TryFindSuffix(ReadOnlySpan<byte> suffix, out int offset)
        {
            for (int i = 0; i < _suffixCount; i++)
            {
                if (NameAtEquals(_suffixOffsets[i], suffix))
                {
                    offset = _suffixOffsets[i];
                    return true;
                }
            }

            offset = 0;
            return false;
        }

        /// <summary>
        /// Whether the complete name written at <paramref name="offset"/> (pointers followed) equals
        /// <paramref name="name"/>. Reads only bytes of this message: every remembered offset starts a complete name,
        /// and every pointer in it leads strictly backwards to another one.
        /// </summary>
        private bool NameAtEquals(int offset, ReadOnlySpan<byte> name)
        {
            int position = 0;
            while (true)
            {
                byte length = _buffer[offset];
                if ((length & 0xC0) == 0xC0)
                {
                    int target = ((length & 0x3F) << 8) | _buffer[offset + 1];
                    if (target >= offset)
                    {
                        Debug.Fail("a pointer we wrote does not lead backwards");
                        return false;
                    }

                    offset = target;
                    continue;
                }

                if (length != name[position])
                {
                    return false;
                }

                if (length == 0)
                {
                    return true;
                }

                for (int i = 1; i <= length; i++)
                {
                    if (DnsName.ToLower(_buffer[offset + i]) != DnsName.ToLower(name[position + i]))
                    {
                        return false;
                    }
                }

                offset += 1 + length;
                position += 1 + length;
            }
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

        /// <summary>Appends one entry of the template's record table (little-endian, never sent).</summary>
        public void WriteRecordEntry(ushort end, ushort ttlOffset)
        {
            Ensure(4);
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(Length), end);
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(Length + 2), ttlOffset);
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
    }
}
