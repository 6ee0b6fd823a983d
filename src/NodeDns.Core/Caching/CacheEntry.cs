using NodeDns.Caching.Storage;
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
/// What a lookup found: the fields of one cached answer as they were when read, and the way back to its bytes in the
/// cache's memory. A value, not an object: the cache holds no object per answer. The bytes are reached through
/// <see cref="TryWrite"/> and <see cref="TryCopyTemplate"/>, which fail (rather than serve something else) when the
/// answer was replaced or evicted since the lookup. Timestamps come from <see cref="TimeProvider.GetTimestamp"/>.
/// </summary>
public readonly struct CacheEntry
{
    private readonly DnsCache _cache;
    private readonly EntryFields _fields;

    internal CacheEntry(DnsCache cache, int handle, int generation, uint version, bool isStalePart, in EntryFields fields,
        EntryIndex.Table? table, int slot)
    {
        _cache = cache;
        Table = table;
        Slot = slot;
        Handle = handle;
        Generation = generation;
        Version = version;
        IsStalePart = isStalePart;
        _fields = fields;
    }

    /// <summary>The index table and slot the lookup found the entry through (null for entries not found by a lookup).</summary>
    internal EntryIndex.Table? Table { get; }
    internal int Slot { get; }
    internal int Handle { get; }
    internal int Generation { get; }
    internal uint Version { get; }

    /// <summary>True for the expired answer a failure entry keeps (<see cref="Stale"/>).</summary>
    internal bool IsStalePart { get; }
    internal EntryFields Fields => _fields;

    public EntryKind Kind => _fields.Kind;
    public long StoredAt => _fields.StoredAt;
    public long ExpiresAt => _fields.ExpiresAt;

    /// <summary>The TTL the entry was stored with, in seconds.</summary>
    public uint Ttl => _fields.Ttl;

    /// <summary>The zone the answer came through, for per-zone metrics of hits.</summary>
    public ZoneId Zone => _fields.Zone;

    /// <summary>For a failure entry: how many failures in a row led to it (drives the back-off).</summary>
    public int FailureStreak => _fields.FailureStreak;

    /// <summary>Bytes of the answer's wire form (the buffer to serve it needs these and an OPT record).</summary>
    public int WireLength => _fields.Shape.WireLength;

    public bool IsExpired(long now) => now >= ExpiresAt;

    public bool IsData => Kind != EntryKind.Failure;

    /// <summary>For a failure entry: the expired answer to serve stale while the failure is cached (RFC 8767); null when it has none or it changed.</summary>
    public CacheEntry? Stale => _fields.HasStale && !IsStalePart ? _cache.ReadStale(this) : null;

    /// <summary>
    /// Serves the answer to <paramref name="query"/> (see <see cref="ResponseTemplate.Write"/>) straight from the cache's
    /// memory; -1 when the entry changed since the lookup (look it up again).
    /// </summary>
    public int TryWrite(ReadOnlySpan<byte> query, in QueryInfo info, uint elapsedSeconds, int limit, Span<byte> destination, uint fixedTtl = 0) =>
        _cache.TryWrite(this, query, info, elapsedSeconds, limit, destination, fixedTtl);

    /// <summary>A copy of the answer on the heap, for the miss path; false when the entry changed since the lookup.</summary>
    public bool TryCopyTemplate(out ResponseTemplate template) => _cache.TryCopyTemplate(this, out template);

    /// <summary>A copy of the answer; throws when the entry changed since the lookup (tests and single-threaded tools).</summary>
    public ResponseTemplate Template => TryCopyTemplate(out ResponseTemplate template)
        ? template
        : throw new InvalidOperationException("the cache entry was replaced since it was read");

    /// <summary>A copy of the key; empty when the entry changed since the lookup.</summary>
    public byte[] Key => _cache.CopyKey(this);

    /// <summary>Counts a hit for prefetch popularity; returns the hits in the current window.</summary>
    internal int CountHit(long now, long window) => DnsCache.CountHit(this, now, window);

    /// <summary>Claims the one background refresh of this entry; false when one runs or ran, or the entry changed.</summary>
    internal bool TryStartRefresh() => DnsCache.TryStartRefresh(this);
}
