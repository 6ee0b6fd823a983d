using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// Reads an upstream response strictly (RFC 9267): bounded names, backwards-only pointers, RDATA lengths checked
/// against the type, at most one OPT and only in the additional section. Anything else is rejected whole.
/// </summary>
public static class ResponseReader
{
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

        Span<byte> name = stackalloc byte[DnsLimits.MaxNameLength];
        if (!DnsName.TryRead(message, DnsLimits.HeaderLength, name, lowerCase: false, out int position, out int nameLength)
            || position + 4 > message.Length)
        {
            return false;
        }

        byte[] questionName = name[..nameLength].ToArray();
        ushort questionType = BinaryPrimitives.ReadUInt16BigEndian(message[position..]);
        ushort questionClass = BinaryPrimitives.ReadUInt16BigEndian(message[(position + 2)..]);
        position += 4;

        var records = new List<DnsRecord>();
        bool truncated = (flags & DnsHeader.TcBit) != 0;
        if (!truncated && !TryReadRecords(message, position, name, records))
        {
            return false;
        }

        response = new DnsResponseMessage
        {
            Id = DnsHeader.Id(message),
            Flags = flags,
            QuestionName = questionName,
            QuestionType = questionType,
            QuestionClass = questionClass,
            Records = records,
        };
        return true;
    }

    private static bool TryReadRecords(ReadOnlySpan<byte> message, int position, Span<byte> name, List<DnsRecord> records)
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
            if (!DnsName.TryRead(message, position, name, lowerCase: false, out position, out int ownerLength)
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

            if (!TryReadData(message, rdata, rdLength, type, out byte[] data))
            {
                return false;
            }

            // RFC 2181 §8: a TTL with the most significant bit set is treated as zero.
            records.Add(new DnsRecord(section, name[..ownerLength].ToArray(), type, @class, ttl > int.MaxValue ? 0 : ttl, data));
        }

        return true;
    }

    private static bool TryReadData(ReadOnlySpan<byte> message, int offset, int length, ushort type, out byte[] data)
    {
        data = [];
        switch (type)
        {
            case DnsType.A when length != 4:
            case DnsType.AAAA when length != 16:
                return false;
        }

        int[]? layout = RdataNames.Layout(type);
        if (layout is null)
        {
            data = message.Slice(offset, length).ToArray();
            return true;
        }

        Span<byte> name = stackalloc byte[DnsLimits.MaxNameLength];
        var output = new List<byte>(length + 32);
        int position = offset;
        int end = offset + length;
        foreach (int field in layout)
        {
            if (field == RdataNames.Name)
            {
                if (!DnsName.TryRead(message[..end], position, name, lowerCase: false, out position, out int nameLength))
                {
                    return false;
                }

                output.AddRange(name[..nameLength]);
            }
            else
            {
                int size = field == RdataNames.Rest ? end - position : field;
                if (position + size > end)
                {
                    return false;
                }

                output.AddRange(message.Slice(position, size));
                position += size;
            }
        }

        if (position != end)
        {
            return false;
        }

        data = [.. output];
        return true;
    }
}
