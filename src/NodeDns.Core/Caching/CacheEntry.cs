using NodeDns.Protocol;

namespace NodeDns.Caching;

public enum EntryKind : byte
{
    Positive,
    Negative,

    /// <summary>The upstreams failed for this key (RFC 9520): answered SERVFAIL, or stale data, until it expires.</summary>
    Failure,
}

/// <summary>
/// An immutable cached answer; a refresh replaces the whole entry. Timestamps come from
/// <see cref="TimeProvider.GetTimestamp"/>. Only the CLOCK bit and the prefetch counters change after creation.
/// </summary>
public sealed class CacheEntry
{
    public CacheEntry(byte[] key, ResponseTemplate template, EntryKind kind, long storedAt, long expiresAt, uint ttl)
    {
        Key = key;
        Template = template;
        Kind = kind;
        StoredAt = storedAt;
        ExpiresAt = expiresAt;
        Ttl = ttl;
    }

    /// <summary>Object headers, fields and the dictionary node of one entry, for the memory budget.</summary>
    internal const int EntryOverhead = 160;

    public byte[] Key { get; }

    /// <summary>What a fresh hit serves: the answer, or SERVFAIL for a failure entry.</summary>
    public ResponseTemplate Template { get; }
    public EntryKind Kind { get; }
    public long StoredAt { get; }
    public long ExpiresAt { get; }

    /// <summary>The TTL the entry was stored with, in seconds.</summary>
    public uint Ttl { get; }
    /// <summary>Computed, not stored: every field of an entry is paid 100,000 times over.</summary>
    public int SizeInBytes => Template.SizeInBytes + Key.Length + EntryOverhead;

    /// <summary>For a failure entry: the expired answer to serve stale while the failure is cached (RFC 8767).</summary>
    public CacheEntry? Stale { get; init; }

    /// <summary>The zone the answer came through, for per-zone metrics of hits.</summary>
    public ZoneId Zone { get; init; }

    /// <summary>For a failure entry: how many failures in a row led to it (drives the back-off).</summary>
    public int FailureStreak { get; init; }

    /// <summary>CLOCK reference bit: set by readers on a hit, cleared by the eviction hand.</summary>
    internal volatile bool Referenced;

    /// <summary>Index in the eviction ring; owned by the cache's writer lock.</summary>
    internal int Slot = -1;

    /// <summary>Prefetch popularity: hits counted since <see cref="HitWindowStart"/>. Races only lose a count.</summary>
    internal int Hits;
    internal long HitWindowStart;

    /// <summary>1 while a background refresh of this entry runs (one at a time).</summary>
    internal int Refreshing;

    public bool IsExpired(long now) => now >= ExpiresAt;

    public bool IsData => Kind != EntryKind.Failure;
}
