using System.Buffers.Binary;
using System.Diagnostics;

namespace NodeDns.Protocol;

/// <summary>
/// Encodes a question and records into a template (see <see cref="ResponseTemplate"/>), with name compression
/// (owner names and names inside RFC 1035 RDATA only; RFC 3597 §4). Miss path only.
/// </summary>
public static class ResponseTemplateBuilder
{
    /// <summary>Leaves room for an OPT record so the largest template still fits a TCP message.</summary>
    private const int MaxTemplateLength = DnsLimits.MaxMessageLength - DnsLimits.EmptyOptRecordLength;

    /// <param name="ttlCap">Every record's TTL is stored as min(its TTL, this cap).</param>
    /// <returns>null when the encoded message would be too long.</returns>
    public static ResponseTemplate? Build(ReadOnlySpan<byte> questionName, ushort questionType, ushort questionClass,
        int rcode, bool authenticData, IReadOnlyList<DnsRecord> records, uint ttlCap) =>
        TryEncode(questionName, questionType, questionClass, rcode, authenticData, new RecordObjects(records), ttlCap, out TemplateShape shape,
            out ReadOnlySpan<byte> data)
            ? new ResponseTemplate(data.ToArray(), shape)
            : null;

    /// <summary>
    /// Encodes the question and the records of <paramref name="records"/> in this thread's buffer: <paramref name="data"/> is
    /// valid until the next encoding on this thread. False when the message would be too long.
    /// </summary>
    internal static bool TryEncode<TRecords>(scoped ReadOnlySpan<byte> questionName, ushort questionType, ushort questionClass, int rcode,
        bool authenticData, scoped TRecords records, uint ttlCap, out TemplateShape shape, out ReadOnlySpan<byte> data)
        where TRecords : IRecordSource, allows ref struct
    {
        shape = default;
        data = default;
        CompressingWriter writer = CompressingWriter.ForThisThread();
        writer.Skip(DnsLimits.HeaderLength);
        writer.WriteName(questionName);
        writer.WriteUInt16(questionType);
        writer.WriteUInt16(questionClass);
        int questionEnd = writer.Length;

        int count = records.Count;
        Span<int> layout = count <= 64 ? stackalloc int[count] : new int[count];
        int written = 0;
        int answers = 0;
        int authority = 0;
        for (int i = 0; i < count; i++)
        {
            if (!records.Includes(i))
            {
                continue;
            }

            DnsSection section = records.Section(i);
            answers += section == DnsSection.Answer ? 1 : 0;
            authority += section == DnsSection.Authority ? 1 : 0;
            ushort type = records.Type(i);
            writer.WriteName(records.Owner(i));
            writer.WriteUInt16(type);
            writer.WriteUInt16(records.Class(i));
            int ttlOffset = writer.Length;
            writer.WriteUInt32(Math.Min(records.Ttl(i), ttlCap));
            int lengthOffset = writer.Length;
            writer.WriteUInt16(0);
            WriteData(writer, type, records.Data(i));
            int dataLength = writer.Length - lengthOffset - 2;
            if (writer.Length > MaxTemplateLength)
            {
                return false;
            }

            writer.PatchUInt16(lengthOffset, (ushort)dataLength);
            layout[written++] = (writer.Length << 16) | ttlOffset;
        }

        int wireLength = writer.Length;
        foreach (int record in layout[..written])
        {
            writer.WriteRecordEntry((ushort)(record >>> 16), (ushort)record);
        }

        Span<byte> bytes = writer.Written;
        DnsHeader.SetCounts(bytes, 1, answers, authority, written - answers - authority);
        ushort flags = (ushort)((rcode & 0xF) | (authenticData ? DnsHeader.AdBit : 0));
        shape = new TemplateShape((ushort)wireLength, (ushort)questionEnd, (ushort)written, (ushort)answers, (ushort)authority, flags);
        data = bytes;
        return true;
    }

    private static void WriteData(CompressingWriter writer, ushort type, ReadOnlySpan<byte> data)
    {
        int[]? fields = RdataNames.Layout(type);
        if (fields is null)
        {
            writer.WriteBytes(data);
            return;
        }

        bool compress = RdataNames.MayCompress(type);
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

        public Span<byte> Written => _buffer.AsSpan(0, Length);

        private void Ensure(int count)
        {
            if (Length + count > _buffer.Length)
            {
                Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, Length + count));
            }
        }
    }
}
