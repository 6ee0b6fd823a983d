namespace NodeDns.Protocol;

/// <summary>
/// Domain names in wire form (RFC 1035 §3.1, §4.1.4). Compression pointers must point strictly before
/// everything read so far for the same name (RFC 9267 §2), so reading always ends in bounded time.
/// Only ASCII letters are case-folded; every other byte passes through unchanged.
/// </summary>
public static class DnsName
{
    /// <summary>
    /// Validates the name at <paramref name="offset"/> and, when <paramref name="destination"/> is not empty,
    /// writes its uncompressed wire form there (it must hold <see cref="DnsLimits.MaxNameLength"/> bytes).
    /// </summary>
    /// <param name="end">Offset just after the name as it is stored at <paramref name="offset"/>.</param>
    /// <param name="length">Length of the uncompressed name, including the root label.</param>
    public static bool TryRead(ReadOnlySpan<byte> message, int offset, Span<byte> destination, bool lowerCase,
        out int end, out int length)
    {
        end = -1;
        length = 0;
        int position = offset;
        int pointerLimit = offset;
        bool write = !destination.IsEmpty;
        while (true)
        {
            if ((uint)position >= (uint)message.Length)
            {
                return false;
            }

            byte b = message[position];
            if (b == 0)
            {
                if (write)
                {
                    destination[length] = 0;
                }

                length++;
                if (end < 0)
                {
                    end = position + 1;
                }

                return true;
            }

            switch (b & 0xC0)
            {
                case 0xC0:
                    if (position + 1 >= message.Length)
                    {
                        return false;
                    }

                    int target = ((b & 0x3F) << 8) | message[position + 1];
                    if (end < 0)
                    {
                        end = position + 2;
                    }

                    if (target < DnsLimits.HeaderLength || target >= pointerLimit)
                    {
                        return false;
                    }

                    pointerLimit = target;
                    position = target;
                    continue;
                case 0x00:
                    break;
                default:
                    return false; // extended label types (RFC 6891 §5) are not in use
            }

            int labelEnd = position + 1 + b;
            if (labelEnd > message.Length || length + 1 + b > DnsLimits.MaxNameLength - 1)
            {
                return false;
            }

            if (write)
            {
                destination[length] = b;
                ReadOnlySpan<byte> label = message.Slice(position + 1, b);
                Span<byte> target = destination.Slice(length + 1, b);
                if (lowerCase)
                {
                    for (int i = 0; i < label.Length; i++)
                    {
                        target[i] = ToLower(label[i]);
                    }
                }
                else
                {
                    label.CopyTo(target);
                }
            }

            length += 1 + b;
            position = labelEnd;
        }
    }

    public static bool TrySkip(ReadOnlySpan<byte> message, int offset, out int end) =>
        TryRead(message, offset, Span<byte>.Empty, lowerCase: false, out end, out _);

    public static byte ToLower(byte b) => (uint)(b - 'A') <= 'Z' - 'A' ? (byte)(b | 0x20) : b;

    /// <summary>Case-insensitive equality of two uncompressed wire names.</summary>
    public static bool EqualsIgnoreCase(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            return false;
        }

        for (int i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && ToLower(a[i]) != ToLower(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>True when <paramref name="name"/> equals <paramref name="zone"/> or lies below it (both uncompressed, lower case).</summary>
    public static bool IsSubdomainOf(ReadOnlySpan<byte> name, ReadOnlySpan<byte> zone)
    {
        if (zone.Length > name.Length)
        {
            return false;
        }

        int position = 0;
        while (true)
        {
            if (name.Length - position == zone.Length)
            {
                return EqualsIgnoreCase(name[position..], zone);
            }

            if (position >= name.Length || name[position] == 0)
            {
                return false;
            }

            position += 1 + name[position];
        }
    }

    /// <summary>Text form with a trailing dot; non-printable bytes escaped as \DDD (RFC 1035 §5.1).</summary>
    public static string ToText(ReadOnlySpan<byte> name)
    {
        if (name.Length <= 1)
        {
            return ".";
        }

        var text = new System.Text.StringBuilder(name.Length + 4);
        int position = 0;
        while (position < name.Length && name[position] != 0)
        {
            int length = name[position];
            foreach (byte c in name.Slice(position + 1, length))
            {
                if (c is (byte)'.' or (byte)'\\')
                {
                    text.Append('\\').Append((char)c);
                }
                else if (c is > 0x20 and < 0x7F)
                {
                    text.Append((char)c);
                }
                else
                {
                    text.Append('\\').Append(c.ToString("D3", System.Globalization.CultureInfo.InvariantCulture));
                }
            }

            text.Append('.');
            position += 1 + length;
        }

        return text.ToString();
    }

    /// <summary>Parses a presentation-format name ("cluster.local", "." or "in-addr.arpa.") into lower-case wire form.</summary>
    public static bool TryParseText(string text, out byte[] wire)
    {
        wire = [];
        string trimmed = text.Trim();
        if (trimmed is "." or "")
        {
            wire = [0];
            return trimmed == ".";
        }

        if (trimmed.EndsWith('.'))
        {
            trimmed = trimmed[..^1];
        }

        var buffer = new List<byte>(trimmed.Length + 2);
        foreach (string label in trimmed.Split('.'))
        {
            if (label.Length is 0 or > DnsLimits.MaxLabelLength || label.Any(c => c > 0x7E || c <= 0x20))
            {
                return false;
            }

            buffer.Add((byte)label.Length);
            buffer.AddRange(label.Select(c => ToLower((byte)c)));
        }

        buffer.Add(0);
        if (buffer.Count > DnsLimits.MaxNameLength)
        {
            return false;
        }

        wire = [.. buffer];
        return true;
    }
}
