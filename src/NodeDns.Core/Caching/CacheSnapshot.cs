using System.Buffers.Binary;
using NodeDns.Protocol;

namespace NodeDns.Caching;

/// <summary>
/// Saves the cache's live answers to a file and loads them back on start (a warm restart). Each entry keeps its key,
/// kind, the seconds it had left, and its response template in wire form; on load the time since the save counts
/// against those seconds and every template is read back through the strict response reader, so a corrupt or
/// foreign file is rejected whole, never half-loaded.
/// </summary>
public static class CacheSnapshot
{
    private static readonly byte[] Magic = "NODEDNS-SNAPSHOT"u8.ToArray();
    private const ushort Version = 1;
    private const int MaxEntries = 10_000_000;

    public static void Save(DnsCache cache, Stream stream, DateTimeOffset now)
    {
        long timestamp = cache.Time.GetTimestamp();
        var writer = new BinaryWriter(stream);
        // Autopath answers are left out: they are derived from entries that are saved, and their search lists' numbers
        // belong to this process.
        var entries = new List<(CacheEntry Entry, byte[] Key, ResponseTemplate Template)>();
        foreach (CacheEntry entry in cache.Entries())
        {
            byte[] key = entry.Key;
            if (entry.IsData && !entry.IsExpired(timestamp) && !CacheKey.IsAutopath(key) && entry.TryCopyTemplate(out ResponseTemplate template))
            {
                entries.Add((entry, key, template));
            }
        }

        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(now.ToUnixTimeMilliseconds());
        writer.Write(entries.Count);
        foreach ((CacheEntry entry, byte[] key, ResponseTemplate template) in entries)
        {
            uint remaining = (uint)Math.Ceiling((entry.ExpiresAt - timestamp) / (double)cache.Time.TimestampFrequency);
            byte[] wire = template.Wire.ToArray();
            DnsHeader.SetFlags(wire, (ushort)(DnsHeader.QrBit | template.Flags));
            writer.Write((byte)entry.Kind);
            writer.Write(remaining);
            writer.Write((ushort)key.Length);
            writer.Write(key);
            writer.Write(wire.Length);
            writer.Write(wire);
        }

        writer.Flush();
    }

    /// <summary>Loads a snapshot written by <see cref="Save"/>.</summary>
    /// <param name="zone">Finds the zone of a key (for per-zone metrics).</param>
    /// <returns>Entries loaded; 0 with <paramref name="problem"/> set when the file was rejected.</returns>
    public static int Load(DnsCache cache, Stream stream, DateTimeOffset now, Func<byte[], ZoneId> zone, out string? problem)
    {
        var loaded = new List<(byte[] Key, ResponseTemplate Template, EntryKind Kind, uint Ttl)>();
        try
        {
            var reader = new BinaryReader(stream);
            if (!reader.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic) || reader.ReadUInt16() != Version)
            {
                problem = "not a NodeDns cache snapshot of this version";
                return 0;
            }

            long elapsedSeconds = Math.Max(0, (now.ToUnixTimeMilliseconds() - reader.ReadInt64()) / 1000);
            int count = reader.ReadInt32();
            if (count is < 0 or > MaxEntries)
            {
                problem = $"implausible entry count {count}";
                return 0;
            }

            for (int i = 0; i < count; i++)
            {
                var kind = (EntryKind)reader.ReadByte();
                uint remaining = reader.ReadUInt32();
                byte[] key = reader.ReadBytes(reader.ReadUInt16());
                int wireLength = reader.ReadInt32();
                if (wireLength is < DnsLimits.HeaderLength or > DnsLimits.MaxMessageLength)
                {
                    problem = $"entry {i}: bad length {wireLength}";
                    return 0;
                }

                byte[] wire = reader.ReadBytes(wireLength);
                uint left = remaining > elapsedSeconds ? (uint)(remaining - elapsedSeconds) : 0;
                if (kind is not (EntryKind.Positive or EntryKind.Negative) || wire.Length != wireLength
                    || !TryRebuild(key, wire, out ResponseTemplate? template, Math.Max(left, 1)))
                {
                    problem = $"entry {i} is malformed";
                    return 0;
                }

                if (left > 0)
                {
                    loaded.Add((key, template!, kind, left));
                }
            }
        }
        catch (EndOfStreamException)
        {
            problem = "the file ends early";
            return 0;
        }

        foreach ((byte[] key, ResponseTemplate template, EntryKind kind, uint ttl) in loaded)
        {
            cache.Insert(key, template, kind, ttl, zone: zone(key));
        }

        problem = null;
        return loaded.Count;
    }

    /// <summary>Reads the stored answer back strictly and checks that it answers exactly the question of its key.</summary>
    private static bool TryRebuild(byte[] key, byte[] wire, out ResponseTemplate? template, uint ttlCap)
    {
        template = null;
        if (!CacheKey.IsWellFormed(key) || !ResponseReader.TryRead(wire, out DnsResponseMessage message))
        {
            return false;
        }

        if (!DnsName.EqualsIgnoreCase(message.QuestionName, CacheKey.Name(key))
            || message.QuestionType != CacheKey.Type(key) || message.QuestionClass != CacheKey.Class(key))
        {
            return false;
        }

        template = ResponseTemplateBuilder.Build(CacheKey.Name(key), message.QuestionType, message.QuestionClass, message.Rcode,
            (message.Flags & DnsHeader.AdBit) != 0, message.ToRecords(), ttlCap);
        return template is not null;
    }
}
