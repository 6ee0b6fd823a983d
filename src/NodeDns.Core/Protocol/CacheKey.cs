using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>
/// The layout of a cache key: the question name in lower-case wire form, then type and class (big-endian) and one
/// byte of flags (DO, CD). Keys are compared in full; these read its parts back.
/// </summary>
public static class CacheKey
{
    /// <summary>Bytes after the name: type, class and flags.</summary>
    public const int SuffixLength = 5;

    /// <summary>Bytes an autopath key adds: a marker and the search list's number.</summary>
    public const int AutopathLength = 5;

    /// <summary>Key buffer size: the longest name, the suffix, and room for an autopath key.</summary>
    public const int MaxLength = DnsLimits.MaxNameLength + SuffixLength + AutopathLength;

    private const byte AutopathMarker = 0xFF;
    public const byte FlagDnssecOk = 1;
    public const byte FlagCheckingDisabled = 2;

    /// <summary>Writes type, class and flags after the name (already at the start of <paramref name="key"/>); returns the key's length.</summary>
    public static int WriteSuffix(Span<byte> key, int nameLength, ushort type, ushort @class, bool dnssecOk, bool checkingDisabled)
    {
        BinaryPrimitives.WriteUInt16BigEndian(key[nameLength..], type);
        BinaryPrimitives.WriteUInt16BigEndian(key[(nameLength + 2)..], @class);
        key[nameLength + 4] = (byte)((dnssecOk ? FlagDnssecOk : 0) | (checkingDisabled ? FlagCheckingDisabled : 0));
        return nameLength + SuffixLength;
    }

    /// <summary>
    /// Turns the plain key of length <paramref name="length"/> into the key of the answer autopath found for search list
    /// <paramref name="searchList"/>; returns its length. Plain keys end in the flags byte, so the two never collide.
    /// </summary>
    public static int WriteAutopath(Span<byte> key, int length, int searchList)
    {
        key[length] = AutopathMarker;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(key[(length + 1)..], searchList);
        return length + AutopathLength;
    }

    /// <summary>Whether <paramref name="key"/> is an autopath key (its name, the suffix, then the autopath bytes).</summary>
    public static bool IsAutopath(ReadOnlySpan<byte> key)
    {
        int position = 0;
        while (position < key.Length && key[position] != 0)
        {
            position += 1 + key[position];
        }

        return key.Length == position + 1 + SuffixLength + AutopathLength;
    }

    /// <summary>Whether <paramref name="key"/> is long enough to hold a name (at least the root) and the suffix.</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> key) => key.Length > SuffixLength;

    public static ReadOnlySpan<byte> Name(ReadOnlySpan<byte> key) => key[..^SuffixLength];

    public static ushort Type(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt16BigEndian(key[^SuffixLength..]);

    public static ushort Class(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt16BigEndian(key[(key.Length - SuffixLength + 2)..]);
}
