using System.Buffers.Binary;
using NodeDns.Protocol;

namespace NodeDns.Caching.Storage;

/// <summary>
/// One cached answer as it lies in a block of <see cref="ChunkMemory"/>: a fixed header, the key, the template's bytes,
/// and for a failure entry that kept stale data, that data's times, shape and bytes.
/// <para>
/// Concurrency is a sequence lock per record: the state word holds a version, odd while the writer changes the record.
/// A reader reads the state, then whatever it needs, then — after a read barrier — the state and the chunk's generation
/// again; if either changed it read a record in change and retries or misses. Readers never write a record (what they
/// mark lives in the index, see <see cref="EntryIndex"/>). Every length read from a record is checked against the block
/// before use, so a torn read yields wrong bytes that the check throws away, never a fault or an exception.
/// </para>
/// </summary>
internal static class RecordLayout
{
    private const int StoredAtOffset = 8;
    private const int ExpiresAtOffset = 16;
    private const int TtlOffset = 24;
    private const int FailureStreakOffset = 28;
    private const int HashOffset = 32;
    private const int KeyLengthOffset = 36;
    private const int ZoneOffset = 38;
    private const int KindOffset = 40;
    private const int LiveOffset = 41;
    private const int HasStaleOffset = 42;
    private const int ShapeOffset = 44;
    public const int HeaderLength = ShapeOffset + TemplateView.ShapeLength;

    /// <summary>While a block is free: the unit of the next free block of its chunk (in the stored-at field).</summary>
    private const int NextFreeOffset = StoredAtOffset;

    /// <summary>The stale part: stored-at, expires-at, TTL, zone, kind, pad, shape; then its bytes.</summary>
    private const int StaleHeaderLength = 8 + 8 + 4 + 2 + 1 + 1 + TemplateView.ShapeLength;

    public static int Size(int keyLength, in TemplateShape shape, in TemplateShape? staleShape) =>
        HeaderLength + keyLength + shape.DataLength + (staleShape is { } stale ? StaleHeaderLength + stale.DataLength : 0);

    /// <summary>The state word at the start of <paramref name="record"/> (its version), for atomic access.</summary>
    public static ref long State(Span<byte> record) => ref System.Runtime.CompilerServices.Unsafe.As<byte, long>(ref record[0]);

    public static uint Version(long state) => (uint)(state >> 32);

    public static bool IsStable(long state) => (Version(state) & 1) == 0;

    public static bool IsLive(ReadOnlySpan<byte> record) => record[LiveOffset] != 0;

    public static int Hash(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[HashOffset..]);

    private static int KeyLength(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadUInt16LittleEndian(record[KeyLengthOffset..]);

    /// <summary>The key, or empty when its length does not fit (a torn read).</summary>
    public static ReadOnlySpan<byte> Key(ReadOnlySpan<byte> record)
    {
        int length = KeyLength(record);
        return HeaderLength + length <= record.Length ? record.Slice(HeaderLength, length) : [];
    }

    public static EntryKind Kind(ReadOnlySpan<byte> record) => (EntryKind)record[KindOffset];

    public static long ExpiresAt(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt64LittleEndian(record[ExpiresAtOffset..]);

    public static bool HasStale(ReadOnlySpan<byte> record) => record[HasStaleOffset] != 0;

    /// <summary>The header fields of the record (or of its stale part) as the entry a lookup hands out.</summary>
    public static EntryFields ReadFields(ReadOnlySpan<byte> record, bool stalePart)
    {
        int keyLength = KeyLength(record);
        var shape = TemplateShape.Read(record[ShapeOffset..]);
        int dataOffset = HeaderLength + keyLength;
        if (!stalePart)
        {
            return new EntryFields(Kind(record), BinaryPrimitives.ReadInt64LittleEndian(record[StoredAtOffset..]), ExpiresAt(record),
                BinaryPrimitives.ReadUInt32LittleEndian(record[TtlOffset..]), new ZoneId(BinaryPrimitives.ReadUInt16LittleEndian(record[ZoneOffset..])),
                BinaryPrimitives.ReadInt32LittleEndian(record[FailureStreakOffset..]), HasStale(record), shape, dataOffset);
        }

        int stale = dataOffset + shape.DataLength;
        if (stale + StaleHeaderLength > record.Length)
        {
            return default;
        }

        ReadOnlySpan<byte> header = record[stale..];
        return new EntryFields((EntryKind)header[22], BinaryPrimitives.ReadInt64LittleEndian(header), BinaryPrimitives.ReadInt64LittleEndian(header[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(header[16..]), new ZoneId(BinaryPrimitives.ReadUInt16LittleEndian(header[20..])), 0, false,
            TemplateShape.Read(header[24..]), stale + StaleHeaderLength);
    }

    /// <summary>Writes a whole record into a block the writer owns (its state already odd).</summary>
    /// <param name="data">The template's bytes (see <see cref="TemplateView"/>), of <see cref="EntryFields.Shape"/>.</param>
    public static void Write(Span<byte> record, int hash, ReadOnlySpan<byte> key, ReadOnlySpan<byte> data, in EntryFields fields,
        ResponseTemplate? staleTemplate, in EntryFields staleFields)
    {
        BinaryPrimitives.WriteInt64LittleEndian(record[StoredAtOffset..], fields.StoredAt);
        BinaryPrimitives.WriteInt64LittleEndian(record[ExpiresAtOffset..], fields.ExpiresAt);
        BinaryPrimitives.WriteUInt32LittleEndian(record[TtlOffset..], fields.Ttl);
        BinaryPrimitives.WriteInt32LittleEndian(record[FailureStreakOffset..], fields.FailureStreak);
        BinaryPrimitives.WriteInt32LittleEndian(record[HashOffset..], hash);
        BinaryPrimitives.WriteUInt16LittleEndian(record[KeyLengthOffset..], (ushort)key.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(record[ZoneOffset..], fields.Zone.Value);
        record[KindOffset] = (byte)fields.Kind;
        record[LiveOffset] = 1;
        record[HasStaleOffset] = (byte)(staleTemplate is null ? 0 : 1);
        fields.Shape.Write(record[ShapeOffset..]);
        key.CopyTo(record[HeaderLength..]);
        int position = HeaderLength + key.Length;
        data.CopyTo(record[position..]);
        position += data.Length;
        if (staleTemplate is null)
        {
            return;
        }

        Span<byte> header = record[position..];
        BinaryPrimitives.WriteInt64LittleEndian(header, staleFields.StoredAt);
        BinaryPrimitives.WriteInt64LittleEndian(header[8..], staleFields.ExpiresAt);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], staleFields.Ttl);
        BinaryPrimitives.WriteUInt16LittleEndian(header[20..], staleFields.Zone.Value);
        header[22] = (byte)staleFields.Kind;
        header[23] = 0;
        staleTemplate.Shape.Write(header[24..]);
        staleTemplate.Data.CopyTo(header[StaleHeaderLength..]);
    }

    /// <summary>Marks a block free and links it to the next free block of its chunk (its state already odd).</summary>
    public static void WriteFree(Span<byte> record, int nextFree)
    {
        record[LiveOffset] = 0;
        BinaryPrimitives.WriteInt32LittleEndian(record[NextFreeOffset..], nextFree);
    }

    public static int NextFree(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt32LittleEndian(record[NextFreeOffset..]);
}

/// <summary>What a lookup reads of a record (or of its stale part) besides the bytes it serves.</summary>
internal readonly record struct EntryFields(EntryKind Kind, long StoredAt, long ExpiresAt, uint Ttl, ZoneId Zone, int FailureStreak,
    bool HasStale, TemplateShape Shape, int DataOffset);
