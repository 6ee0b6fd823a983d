using NodeDns.Protocol;

namespace NodeDns.Caching;

/// <summary>An immutable cached answer; a refresh replaces the whole entry. Timestamps come from <see cref="TimeProvider.GetTimestamp"/>.</summary>
public sealed class CacheEntry
{
    public CacheEntry(byte[] key, ResponseTemplate template, bool negative, long storedAt, long expiresAt)
    {
        Key = key;
        Template = template;
        Negative = negative;
        StoredAt = storedAt;
        ExpiresAt = expiresAt;
    }

    public byte[] Key { get; }
    public ResponseTemplate Template { get; }
    public bool Negative { get; }
    public long StoredAt { get; }
    public long ExpiresAt { get; }

    /// <summary>CLOCK reference bit: set by readers on a hit, cleared by the eviction hand.</summary>
    internal volatile bool Referenced;

    /// <summary>Index in the eviction ring; owned by the cache's writer lock.</summary>
    internal int Slot = -1;

    public bool IsExpired(long now) => now >= ExpiresAt;
}
