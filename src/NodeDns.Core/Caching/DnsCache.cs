using System.Collections.Concurrent;
using NodeDns.Protocol;

namespace NodeDns.Caching;

public sealed record CacheLimits(int PositiveEntries = 10_000, int NegativeEntries = 10_000);

/// <summary>
/// The answer cache. Reads are lock-free and allocation-free (<see cref="TryGet"/>); writes take one lock and
/// keep positive and negative answers within their own entry caps, evicting with CLOCK (second chance) so that
/// entries hit since the hand last passed survive. Expired entries are removed by <see cref="SweepExpired"/>.
/// </summary>
public sealed class DnsCache
{
    private readonly ConcurrentDictionary<byte[], CacheEntry> _entries;
    private readonly ConcurrentDictionary<byte[], CacheEntry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly ClockRing _positive;
    private readonly ClockRing _negative;
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private long _evictions;

    public DnsCache(CacheLimits limits, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.PositiveEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.NegativeEntries, 1);
        _entries = new ConcurrentDictionary<byte[], CacheEntry>(ByteKeyComparer.Instance);
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
        _positive = new ClockRing(limits.PositiveEntries);
        _negative = new ClockRing(limits.NegativeEntries);
        _time = time;
    }

    public int PositiveCount => _positive.Count;
    public int NegativeCount => _negative.Count;
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Finds a live entry for <paramref name="key"/>. No lock, no allocation.</summary>
    public bool TryGet(ReadOnlySpan<byte> key, long now, out CacheEntry entry)
    {
        if (_lookup.TryGetValue(key, out entry!) && !entry.IsExpired(now))
        {
            if (!entry.Referenced)
            {
                entry.Referenced = true;
            }

            return true;
        }

        return false;
    }

    /// <summary>Stores an answer for <paramref name="ttlSeconds"/>, replacing any entry for the same key.</summary>
    public CacheEntry Insert(byte[] key, ResponseTemplate template, bool negative, uint ttlSeconds)
    {
        long now = _time.GetTimestamp();
        var entry = new CacheEntry(key, template, negative, now, now + (ttlSeconds * _time.TimestampFrequency));
        lock (_writeLock)
        {
            if (_entries.TryGetValue(key, out CacheEntry? old))
            {
                Ring(old).Free(old);
            }

            ClockRing ring = Ring(entry);
            CacheEntry? victim = ring.Place(entry, now);
            if (victim is not null)
            {
                _entries.TryRemove(new KeyValuePair<byte[], CacheEntry>(victim.Key, victim));
                _evictions++;
            }

            _entries[key] = entry;
        }

        return entry;
    }

    /// <summary>Removes every expired entry so that dead answers do not pin memory.</summary>
    public int SweepExpired()
    {
        long now = _time.GetTimestamp();
        int removed = 0;
        lock (_writeLock)
        {
            foreach (ClockRing ring in (ReadOnlySpan<ClockRing>)[_positive, _negative])
            {
                foreach (CacheEntry entry in ring.TakeExpired(now))
                {
                    _entries.TryRemove(new KeyValuePair<byte[], CacheEntry>(entry.Key, entry));
                    removed++;
                }
            }
        }

        return removed;
    }

    private ClockRing Ring(CacheEntry entry) => entry.Negative ? _negative : _positive;

    /// <summary>Fixed array of slots swept by a CLOCK hand. Guarded by the cache's writer lock.</summary>
    private sealed class ClockRing(int capacity)
    {
        private readonly CacheEntry?[] _slots = new CacheEntry?[capacity];
        private readonly Stack<int> _free = new(Enumerable.Range(0, capacity).Reverse());
        private int _hand;

        public int Count => _slots.Length - _free.Count;

        /// <returns>The entry evicted to make room, if any.</returns>
        public CacheEntry? Place(CacheEntry entry, long now)
        {
            CacheEntry? victim = null;
            if (!_free.TryPop(out int slot))
            {
                slot = AdvanceHand(now);
                victim = _slots[slot];
            }

            _slots[slot] = entry;
            entry.Slot = slot;
            return victim;
        }

        public void Free(CacheEntry entry)
        {
            if (entry.Slot >= 0 && ReferenceEquals(_slots[entry.Slot], entry))
            {
                _slots[entry.Slot] = null;
                _free.Push(entry.Slot);
            }

            entry.Slot = -1;
        }

        public List<CacheEntry> TakeExpired(long now)
        {
            var expired = new List<CacheEntry>();
            foreach (CacheEntry? entry in _slots)
            {
                if (entry is not null && entry.IsExpired(now))
                {
                    expired.Add(entry);
                }
            }

            expired.ForEach(Free);
            return expired;
        }

        /// <summary>Second chance: skips entries hit since the last pass (clearing their bit); expired ones go first.</summary>
        private int AdvanceHand(long now)
        {
            for (int step = 0; step < 2 * _slots.Length; step++)
            {
                int slot = _hand;
                _hand = (_hand + 1) % _slots.Length;
                CacheEntry candidate = _slots[slot]!;
                if (candidate.Referenced && !candidate.IsExpired(now))
                {
                    candidate.Referenced = false;
                    continue;
                }

                return slot;
            }

            return _hand;
        }
    }
}
