using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// Reads an upstream response strictly (RFC 9267): bounded names, backwards-only pointers, RDATA lengths checked
/// against the type, at most one OPT and only in the additional section. Anything else is rejected whole.
/// </summary>
public static class ResponseReader
{
    /// <summary>Bytes a decompressed RDATA may grow by: the layouts hold at most two names.</summary>
    private const int MaxRdataGrowth = 2 * DnsLimits.MaxNameLength;

    /// <param name="response">The message read (see <see cref="DnsResponseMessage"/> for reuse), or null.</param>
    public static bool TryRead(ReadOnlySpan<byte> message, out DnsResponseMessage response)
    {
        response = null!;
        if (message.Length < DnsLimits.HeaderLength)
        {
            return false;
        }

        ushort flags = DnsHeader.Flags(message);
        if ((flags & DnsHeader.QrBit) == 0 || DnsHeader.Opcode(flags) != 0 || DnsHeader.QuestionCount(message) != 1)
        {
            return false;
        }

        DnsResponseMessage read = DnsResponseMessage.Rent();
        if (!DnsName.TryRead(message, DnsLimits.HeaderLength, read.Reserve(DnsLimits.MaxNameLength), lowerCase: false, out int position,
                out int nameLength)
            || position + 4 > message.Length)
        {
            read.Return();
            return false;
        }

        read.Commit(nameLength);
        read.SetQuestionName(nameLength);
        read.SetHeader(DnsHeader.Id(message), flags, BinaryPrimitives.ReadUInt16BigEndian(message[position..]),
            BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]));
        position += 4;

        bool truncated = (flags & DnsHeader.TcBit) != 0;
        if (!truncated && !TryReadRecords(message, position, read))
        {
            read.Return();
            return false;
        }

        response = read;
        return true;
    }

    private static bool TryReadRecords(ReadOnlySpan<byte> message, int position, DnsResponseMessage read)
    {
        int answers = DnsHeader.AnswerCount(message);
        int authority = DnsHeader.AuthorityCount(message);
        int total = answers + authority + DnsHeader.AdditionalCount(message);
        if (total > DnsLimits.MaxRecordsPerMessage)
        {
            return false;
        }

        bool sawOpt = false;
        for (int i = 0; i < total; i++)
        {
            var section = i < answers ? DnsSection.Answer : i < answers + authority ? DnsSection.Authority : DnsSection.Additional;
            if (!DnsName.TryRead(message, position, read.Reserve(DnsLimits.MaxNameLength), lowerCase: false, out position, out int ownerLength)
                || position + 10 > message.Length)
            {
                return false;
            }

            ushort type = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
            ushort @class = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
            uint ttl = BinaryPrimitives.ReadUInt32BigEndian(message[(position + 4)..]);
            int rdLength = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 8)..]);
            int rdata = position + 10;
            position = rdata + rdLength;
            if (position > message.Length)
            {
                return false;
            }

            if (type == DnsType.OPT)
            {
                if (section != DnsSection.Additional || sawOpt || ownerLength != 1)
                {
                    return false;
                }

                sawOpt = true; // hop-by-hop: never stored, never relayed
                continue;
            }

            int owner = read.Commit(ownerLength);
            if (!TryReadData(message, rdata, rdLength, type, read.Reserve(rdLength + MaxRdataGrowth), out int dataLength))
            {
                return false;
            }

            // RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
            read.Add(new ResponseRecord(section, type, @class, ttl > int.MaxValue ? 0 : ttl, owner, ownerLength, read.Commit(dataLength),
                dataLength));
        }

        return true;
    }

    /// <summary>Copies the RDATA into <paramref name="output"/>, names decompressed; checks it against the type's layout.</summary>
    private static bool TryReadData(ReadOnlySpan<byte> message, int offset, int length, ushort type, Span<byte> output, out int written)
    {
        written = 0;
        switch (type)
        {
            case DnsType.A when length != 4:
            case DnsType.AAAA when length != 16:
                return false;
        }

        int[]? layout = RdataNames.Layout(type);
        if (layout is null)
        {
            message.Slice(offset, length).CopyTo(output);
            written = length;
            return true;
        }

        int position = offset;
        int end = offset + length;
        foreach (int field in layout)
        {
            if (field == RdataNames.Name)
            {
                if (!DnsName.TryRead(message[..end], position, output[written..], lowerCase: false, out position, out int nameLength))
                {
                    return false;
                }

                written += nameLength;
            }
            else
            {
                int size = field == RdataNames.Rest ? end - position : field;
                if (position + size > end)
                {
                    return false;
                }

                message.Slice(position, size).CopyTo(output[written..]);
                written += size;
                position += size;
            }
        }

        return position == end;
    }
}
