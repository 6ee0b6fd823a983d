using System.Collections.Concurrent;
using NodeDns.Protocol;

namespace NodeDns.Caching;

/// <summary>
/// The answer cache. Reads are lock-free and allocation-free (<see cref="TryGetFresh"/>); writes take one lock.
/// All entries share one byte budget and each kind (positive, negative, failure) has its own entry cap. Eviction is
/// CLOCK (second chance): an entry hit since the hand last passed survives, so a flood of one-hit names cannot push
/// out other clients' hot entries; when a kind is over its cap only entries of that kind are evicted. Expired
/// entries stay for the serve-stale window (failures for their back-off memory) and are then swept.
/// </summary>
public sealed class DnsCache
{
    private readonly ConcurrentDictionary<byte[], CacheEntry> _entries;
    private readonly ConcurrentDictionary<byte[], CacheEntry>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private ClockRing _ring;
    private int[] _caps;
    private readonly int[] _counts = new int[3];
    private readonly long[] _evictions = new long[3];
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private long _bytes;

    public DnsCache(CacheOptions options, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PositiveEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NegativeEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FailureEntries, 1);
        Options = options;
        _caps = [options.PositiveEntries, options.NegativeEntries, options.FailureEntries];
        _entries = new ConcurrentDictionary<byte[], CacheEntry>(ByteKeyComparer.Instance);
        _lookup = _entries.GetAlternateLookup<ReadOnlySpan<byte>>();
        _ring = new ClockRing(_caps.Sum());
        _time = time;
    }

    public CacheOptions Options { get; private set; }
    public TimeProvider Time => _time;
    public int PositiveCount => Volatile.Read(ref _counts[(int)EntryKind.Positive]);
    public int NegativeCount => Volatile.Read(ref _counts[(int)EntryKind.Negative]);
    public int FailureCount => Volatile.Read(ref _counts[(int)EntryKind.Failure]);
    public long Bytes => Interlocked.Read(ref _bytes);

    public long Evictions(EntryKind kind) => Interlocked.Read(ref _evictions[(int)kind]);

    /// <summary>Finds an unexpired entry for <paramref name="key"/>. No lock, no allocation.</summary>
    public bool TryGetFresh(ReadOnlySpan<byte> key, long now, out CacheEntry entry)
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

    /// <summary>Finds the entry for <paramref name="key"/> whether or not it has expired (stale data, failure back-off).</summary>
    public bool TryGetAny(ReadOnlySpan<byte> key, out CacheEntry entry) => _lookup.TryGetValue(key, out entry!);

    /// <summary>True when <paramref name="entry"/> is expired answer data that may still be served stale.</summary>
    public bool IsServableStale(CacheEntry entry, long now) =>
        entry.IsData && Options.StaleWindow > TimeSpan.Zero && now < entry.ExpiresAt + Ticks(Options.StaleWindow);

    /// <summary>Stores an entry for <paramref name="ttlSeconds"/>, replacing any entry for the same key.</summary>
    public CacheEntry Insert(byte[] key, ResponseTemplate template, EntryKind kind, uint ttlSeconds, CacheEntry? stale = null,
        int failureStreak = 0, ZoneId zone = default)
    {
        long now = _time.GetTimestamp();
        var entry = new CacheEntry(key, template, kind, now, now + (ttlSeconds * _time.TimestampFrequency), ttlSeconds)
        {
            Stale = stale,
            FailureStreak = failureStreak,
            Zone = zone,
        };
        lock (_writeLock)
        {
            if (_entries.TryGetValue(key, out CacheEntry? old))
            {
                entry.Hits = old.Hits;
                entry.HitWindowStart = old.HitWindowStart;
                Remove(old);
            }

            MakeRoom(entry, now);
            _ring.Place(entry);
            _entries[key] = entry;
            _counts[(int)kind]++;
            _bytes += entry.SizeInBytes;
        }

        return entry;
    }

    /// <summary>A copy of the current entries, for a snapshot.</summary>
    public IReadOnlyList<CacheEntry> Entries()
    {
        lock (_writeLock)
        {
            return [.. _ring];
        }
    }

    /// <summary>Applies new limits (a reload): entries are kept, and evicted as needed to fit the new caps and budget.</summary>
    public void Reconfigure(CacheOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PositiveEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NegativeEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FailureEntries, 1);
        long now = _time.GetTimestamp();
        lock (_writeLock)
        {
            List<CacheEntry> entries = [.. _ring];
            Options = options;
            _caps = [options.PositiveEntries, options.NegativeEntries, options.FailureEntries];
            _ring = new ClockRing(_caps.Sum());
            Array.Clear(_counts);
            _bytes = 0;
            foreach (CacheEntry entry in entries)
            {
                entry.Slot = -1;
                if (_counts[(int)entry.Kind] < _caps[(int)entry.Kind] && _bytes + entry.SizeInBytes <= options.MaxBytes && !entry.IsExpired(now))
                {
                    _ring.Place(entry);
                    _counts[(int)entry.Kind]++;
                    _bytes += entry.SizeInBytes;
                }
                else
                {
                    _entries.TryRemove(new KeyValuePair<byte[], CacheEntry>(entry.Key, entry));
                    _evictions[(int)entry.Kind]++;
                }
            }
        }
    }

    /// <summary>Removes entries past their retention so that dead answers do not pin memory.</summary>
    public int SweepExpired()
    {
        long now = _time.GetTimestamp();
        int removed = 0;
        lock (_writeLock)
        {
            foreach (CacheEntry entry in _ring.Where(e => now >= RetainedUntil(e)))
            {
                Remove(entry);
                removed++;
            }
        }

        return removed;
    }

    private long RetainedUntil(CacheEntry entry)
    {
        if (entry.IsData)
        {
            return entry.ExpiresAt + (Options.StaleWindow > TimeSpan.Zero ? Ticks(Options.StaleWindow) : 0);
        }

        long backOffMemory = entry.ExpiresAt + Ticks(Options.MaxFailureTtl);
        return entry.Stale is { } stale ? Math.Max(backOffMemory, RetainedUntil(stale)) : backOffMemory;
    }

    private void MakeRoom(CacheEntry entry, long now)
    {
        int kind = (int)entry.Kind;
        while (_counts[kind] >= _caps[kind] || (_bytes + entry.SizeInBytes > Options.MaxBytes && _ring.Count > 0))
        {
            EntryKind? only = _counts[kind] >= _caps[kind] ? entry.Kind : null;
            CacheEntry victim = _ring.NextVictim(only, now);
            Remove(victim);
            _evictions[(int)victim.Kind]++;
        }
    }

    private void Remove(CacheEntry entry)
    {
        _entries.TryRemove(new KeyValuePair<byte[], CacheEntry>(entry.Key, entry));
        if (_ring.Free(entry))
        {
            _counts[(int)entry.Kind]--;
            _bytes -= entry.SizeInBytes;
        }
    }

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    /// <summary>Fixed array of slots swept by a CLOCK hand. Guarded by the cache's writer lock.</summary>
    private sealed class ClockRing(int capacity) : IEnumerable<CacheEntry>
    {
        private readonly CacheEntry?[] _slots = new CacheEntry?[capacity];
        private readonly Stack<int> _free = new(Enumerable.Range(0, capacity).Reverse());
        private int _hand;

        public int Count => _slots.Length - _free.Count;

        public void Place(CacheEntry entry)
        {
            int slot = _free.Pop();
            _slots[slot] = entry;
            entry.Slot = slot;
        }

        /// <returns>False when the entry was not in the ring.</returns>
        public bool Free(CacheEntry entry)
        {
            if (entry.Slot < 0 || !ReferenceEquals(_slots[entry.Slot], entry))
            {
                return false;
            }

            _slots[entry.Slot] = null;
            _free.Push(entry.Slot);
            entry.Slot = -1;
            return true;
        }

        /// <summary>
        /// Advances the hand to an entry to evict (of kind <paramref name="only"/> when given): expired entries and
        /// entries not hit since the last pass go; hit ones get a second chance and lose their bit.
        /// </summary>
        public CacheEntry NextVictim(EntryKind? only, long now)
        {
            for (int step = 0; step <= 2 * _slots.Length; step++)
            {
                CacheEntry? candidate = _slots[_hand];
                _hand = (_hand + 1) % _slots.Length;
                if (candidate is null || (only is { } kind && candidate.Kind != kind))
                {
                    continue;
                }

                if (candidate.Referenced && !candidate.IsExpired(now))
                {
                    candidate.Referenced = false;
                    continue;
                }

                return candidate;
            }

            throw new InvalidOperationException("cache ring holds no entry to evict");
        }

        public IEnumerator<CacheEntry> GetEnumerator()
        {
            var snapshot = new List<CacheEntry>(Count);
            foreach (CacheEntry? entry in _slots)
            {
                if (entry is not null)
                {
                    snapshot.Add(entry);
                }
            }

            return snapshot.GetEnumerator();
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
