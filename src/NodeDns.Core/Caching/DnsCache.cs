using NodeDns.Caching.Storage;
using NodeDns.Protocol;

namespace NodeDns.Caching;

/// <summary>
/// The answer cache, outside the GC heap: records in blocks of native memory (<see cref="ChunkMemory"/>,
/// <see cref="BlockAllocator"/>), found through an open-addressing index (<see cref="EntryIndex"/>), read under a
/// sequence lock per record (<see cref="RecordLayout"/>). Reads are lock-free and allocation-free; writes take one lock.
/// All entries share one byte budget (blocks and chunks alike) and each kind (positive, negative, failure) has its own
/// entry cap. Eviction is CLOCK (second chance) over the blocks: an entry hit since the hand last passed survives, so a
/// flood of one-hit names cannot push out other clients' hot entries; when a kind is over its cap only entries of that
/// kind are evicted. Expired entries stay for the serve-stale window (failures for their back-off memory) and are then
/// swept, and chunks left empty go back to the kernel.
/// </summary>
public sealed class DnsCache
{
    private const int None = -1;
    private const int ReadAttempts = 4;

    private readonly ChunkMemory _memory = new();
    private readonly BlockAllocator _blocks;
    private readonly EntryIndex _index;
    private int[] _caps;
    private readonly int[] _counts = new int[3];
    private readonly long[] _evictions = new long[3];
    private readonly TimeProvider _time;
    private readonly Lock _writeLock = new();
    private long _bytes;
    private int _handChunk;
    private int _handUnit;

    internal enum ReadResult : byte
    {
        Match,
        KeyMismatch,

        /// <summary>The record changed during the read: look again.</summary>
        Torn,
    }

    public DnsCache(CacheOptions options, TimeProvider time)
    {
        Validate(options);
        Options = options;
        _caps = [options.PositiveEntries, options.NegativeEntries, options.FailureEntries];
        _blocks = new BlockAllocator(_memory, ChunkLimitFor(options.MaxBytes));
        _index = new EntryIndex(handle => RecordLayout.Hash(Record(handle)));
        _time = time;
    }

    public CacheOptions Options { get; private set; }
    public TimeProvider Time => _time;
    public int PositiveCount => Volatile.Read(ref _counts[(int)EntryKind.Positive]);
    public int NegativeCount => Volatile.Read(ref _counts[(int)EntryKind.Negative]);
    public int FailureCount => Volatile.Read(ref _counts[(int)EntryKind.Failure]);

    /// <summary>Bytes of the blocks holding entries (what the byte budget bounds).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Bytes of the chunks carved now: the cache's share of the process's memory, index aside.</summary>
    public long ChunkBytes => (long)_blocks.Carved * ChunkMemory.ChunkSize;

    public long Evictions(EntryKind kind) => Interlocked.Read(ref _evictions[(int)kind]);

    /// <summary>Bytes of budget an entry for <paramref name="key"/> and <paramref name="template"/> takes: its block.</summary>
    public static int SizeOf(ReadOnlySpan<byte> key, ResponseTemplate template) =>
        SizeClasses.BytesOf(SizeClasses.For(RecordLayout.Size(key.Length, template.Shape, null)));

    /// <summary>Finds an unexpired entry for <paramref name="key"/>. No lock, no allocation.</summary>
    public bool TryGetFresh(ReadOnlySpan<byte> key, long now, out CacheEntry entry)
    {
        if (TryFind(key, out entry) && !entry.IsExpired(now))
        {
            MarkReferenced(entry);
            return true;
        }

        entry = default;
        return false;
    }

    /// <summary>Finds the entry for <paramref name="key"/> whether or not it has expired (stale data, failure back-off).</summary>
    public bool TryGetAny(ReadOnlySpan<byte> key, out CacheEntry entry) => TryFind(key, out entry);

    /// <summary>True when <paramref name="entry"/> is expired answer data that may still be served stale.</summary>
    public bool IsServableStale(CacheEntry entry, long now) =>
        entry.IsData && Options.StaleWindow > TimeSpan.Zero && now < entry.ExpiresAt + Ticks(Options.StaleWindow);

    /// <summary>
    /// Stores an entry for <paramref name="ttlSeconds"/>, replacing any entry for the same key. An answer too big for a
    /// chunk (over 128 KiB with its key) or one that cannot be given room is not stored: the result is then default.
    /// </summary>
    /// <param name="stale">For a failure entry: expired answer data to keep serving stale (copied into the new entry).</param>
    public CacheEntry Insert(ReadOnlySpan<byte> key, ResponseTemplate template, EntryKind kind, uint ttlSeconds, CacheEntry? stale = null,
        int failureStreak = 0, ZoneId zone = default) =>
        Insert(key, template.Shape, template.Data, kind, ttlSeconds, stale, failureStreak, zone);

    /// <summary>As <see cref="Insert(ReadOnlySpan{byte}, ResponseTemplate, EntryKind, uint, CacheEntry?, int, ZoneId)"/>, from a template's bytes wherever they are.</summary>
    internal CacheEntry Insert(ReadOnlySpan<byte> key, TemplateShape shape, ReadOnlySpan<byte> data, EntryKind kind, uint ttlSeconds,
        CacheEntry? stale = null, int failureStreak = 0, ZoneId zone = default)
    {
        ResponseTemplate? staleTemplate = null;
        EntryFields staleFields = default;
        if (stale is { } kept && kept.TryCopyTemplate(out ResponseTemplate copy))
        {
            staleTemplate = copy;
            staleFields = kept.Fields;
        }

        int sizeClass = SizeClasses.For(RecordLayout.Size(key.Length, shape, staleTemplate?.Shape));
        if (sizeClass == None)
        {
            return default;
        }

        int hash = Hash(key);
        long now = _time.GetTimestamp();
        var fields = new EntryFields(kind, now, now + (ttlSeconds * _time.TimestampFrequency), ttlSeconds, zone, failureStreak,
            staleTemplate is not null, shape, RecordLayout.HeaderLength + key.Length);
        lock (_writeLock)
        {
            int old = TryFind(key, hash, out CacheEntry replaced) ? replaced.Handle : None;
            int handle = MakeRoom(kind, sizeClass, old, now);
            if (handle == None)
            {
                return default;
            }

            Span<byte> record = Record(handle);
            uint version = BeginWrite(record);
            RecordLayout.Write(record, hash, key, data, fields, staleTemplate, staleFields);
            EndWrite(record, version);
            int generation = EntryIndex.Generation(_memory.Generation(BlockAllocator.ChunkOf(handle)));
            _index.Put(hash, generation, handle, old);
            if (old != None)
            {
                Free(old);
            }

            _counts[(int)kind]++;
            _bytes += BlockBytes(handle);
            return new CacheEntry(this, handle, generation, version + 1, false, fields, table: null, slot: -1);
        }
    }

    /// <summary>The current entries, for a snapshot; their bytes are reached as any lookup's are.</summary>
    public IReadOnlyList<CacheEntry> Entries()
    {
        var entries = new List<CacheEntry>();
        lock (_writeLock)
        {
            ForEachLive(handle =>
            {
                Span<byte> record = Record(handle);
                int generation = EntryIndex.Generation(_memory.Generation(BlockAllocator.ChunkOf(handle)));
                entries.Add(new CacheEntry(this, handle, generation, RecordLayout.Version(RecordLayout.State(record)), false,
                    RecordLayout.ReadFields(record, stalePart: false), table: null, slot: -1));
            });
        }

        return entries;
    }

    /// <summary>Applies new limits (a reload): entries are kept, and evicted as needed to fit the new caps and budget.</summary>
    public void Reconfigure(CacheOptions options)
    {
        Validate(options);
        long now = _time.GetTimestamp();
        lock (_writeLock)
        {
            Options = options;
            _caps = [options.PositiveEntries, options.NegativeEntries, options.FailureEntries];
            _blocks.ChunkLimit = ChunkLimitFor(options.MaxBytes);
            foreach (EntryKind kind in Enum.GetValues<EntryKind>())
            {
                while (_counts[(int)kind] > _caps[(int)kind] && EvictOne(kind, None, None, now))
                {
                }
            }

            while (_bytes > options.MaxBytes && EvictOne(null, None, None, now))
            {
            }

            _blocks.ReleaseEmptied();
            while (_blocks.Carved > _blocks.ChunkLimit && EvictChunk(None))
            {
                _blocks.ReleaseEmptied();
            }
        }
    }

    /// <summary>Removes entries past their retention so that dead answers do not pin memory; empty chunks go back to the kernel.</summary>
    public int SweepExpired()
    {
        long now = _time.GetTimestamp();
        int removed = 0;
        lock (_writeLock)
        {
            ForEachLive(handle =>
            {
                if (now >= RetainedUntil(Record(handle)))
                {
                    Remove(handle);
                    removed++;
                }
            });
            _blocks.ReleaseEmptied();
        }

        return removed;
    }

    // ---- Readers: no lock, no allocation. Every read is checked against the record's version and its chunk's generation.

    private bool TryFind(ReadOnlySpan<byte> key, out CacheEntry entry) => TryFind(key, Hash(key), out entry);

    private bool TryFind(ReadOnlySpan<byte> key, int hash, out CacheEntry entry)
    {
        int tag = EntryIndex.Tag(hash);
        for (int attempt = 0; attempt < ReadAttempts; attempt++)
        {
            EntryIndex.Table table = _index.Current;
            long[] slots = table.Slots;
            int mask = slots.Length - 1;
            bool torn = false;
            for (int i = hash & mask, probes = 0; probes < slots.Length && !torn; i = (i + 1) & mask, probes++)
            {
                long slot = Volatile.Read(ref slots[i]);
                if (EntryIndex.IsEmpty(slot))
                {
                    break;
                }

                if (EntryIndex.IsTombstone(slot) || EntryIndex.TagOf(slot) != tag)
                {
                    continue;
                }

                ReadResult result = TryRead(EntryIndex.Handle(slot), EntryIndex.GenerationOf(slot), key, out entry, table, i);
                if (result == ReadResult.Match)
                {
                    return true;
                }

                torn = result == ReadResult.Torn;
            }

            if (!torn)
            {
                break;
            }
        }

        entry = default;
        return false;
    }

    private ReadResult TryRead(int handle, int generation, ReadOnlySpan<byte> key, out CacheEntry entry, EntryIndex.Table table, int slot)
    {
        entry = default;
        int chunk = BlockAllocator.ChunkOf(handle);
        Span<byte> record = Record(handle);
        if (record.Length < RecordLayout.HeaderLength || EntryIndex.Generation(_memory.Generation(chunk)) != generation)
        {
            return ReadResult.Torn;
        }

        ref long state = ref RecordLayout.State(record);
        long before = Volatile.Read(ref state);
        if (!RecordLayout.IsStable(before) || !RecordLayout.IsLive(record))
        {
            return ReadResult.Torn;
        }

        bool match = RecordLayout.Key(record).SequenceEqual(key);
        EntryFields fields = match ? RecordLayout.ReadFields(record, stalePart: false) : default;
        if (!IsUnchanged(record, handle, RecordLayout.Version(before), generation))
        {
            return ReadResult.Torn;
        }

        if (!match)
        {
            return ReadResult.KeyMismatch;
        }

        entry = new CacheEntry(this, handle, generation, RecordLayout.Version(before), false, fields, table, slot);
        return ReadResult.Match;
    }

    /// <summary>True when the entry's record is still the one it was read from; after a read barrier.</summary>
    private bool IsUnchanged(in CacheEntry entry, Span<byte> record) => IsUnchanged(record, entry.Handle, entry.Version, entry.Generation);

    /// <summary>
    /// True when the record still has <paramref name="version"/> and its chunk <paramref name="generation"/>: what was
    /// read of it before this call (ordered by the read barrier) was not torn.
    /// </summary>
    private bool IsUnchanged(Span<byte> record, int handle, uint version, int generation)
    {
        Volatile.ReadBarrier();
        return RecordLayout.Version(Volatile.Read(ref RecordLayout.State(record))) == version
            && EntryIndex.Generation(_memory.Generation(BlockAllocator.ChunkOf(handle))) == generation;
    }

    /// <summary>The entry's record, or empty when the entry is default or its record cannot hold its data.</summary>
    private Span<byte> RecordOf(in CacheEntry entry)
    {
        if (entry.Version == 0)
        {
            return [];
        }

        Span<byte> record = Record(entry.Handle);
        return record.Length >= entry.Fields.DataOffset && entry.Fields.Shape.Fits(record.Length - entry.Fields.DataOffset) ? record : [];
    }

    internal int TryWrite(in CacheEntry entry, ReadOnlySpan<byte> query, in QueryInfo info, uint elapsedSeconds, int limit,
        Span<byte> destination, uint fixedTtl)
    {
        Span<byte> record = RecordOf(entry);
        if (record.IsEmpty)
        {
            return -1;
        }

        int length = new TemplateView(record[entry.Fields.DataOffset..], entry.Fields.Shape)
            .Write(query, info, elapsedSeconds, limit, destination, fixedTtl);
        return IsUnchanged(entry, record) ? length : -1;
    }

    internal bool TryCopyTemplate(in CacheEntry entry, out ResponseTemplate template)
    {
        template = null!;
        Span<byte> record = RecordOf(entry);
        if (record.IsEmpty)
        {
            return false;
        }

        TemplateShape shape = entry.Fields.Shape;
        byte[] data = record.Slice(entry.Fields.DataOffset, shape.DataLength).ToArray();
        if (!IsUnchanged(entry, record))
        {
            return false;
        }

        template = new ResponseTemplate(data, shape);
        return true;
    }

    internal byte[] CopyKey(in CacheEntry entry)
    {
        Span<byte> record = RecordOf(entry);
        if (record.IsEmpty)
        {
            return [];
        }

        byte[] key = RecordLayout.Key(record).ToArray();
        return IsUnchanged(entry, record) ? key : [];
    }

    internal CacheEntry? ReadStale(in CacheEntry entry)
    {
        Span<byte> record = RecordOf(entry);
        if (record.IsEmpty)
        {
            return null;
        }

        EntryFields fields = RecordLayout.ReadFields(record, stalePart: true);
        return IsUnchanged(entry, record) && fields.Shape.Fits(record.Length - Math.Min(record.Length, fields.DataOffset))
            ? new CacheEntry(this, entry.Handle, entry.Generation, entry.Version, true, fields, table: null, slot: -1)
            : null;
    }

    private static void MarkReferenced(in CacheEntry entry)
    {
        if (entry.Table is { } table)
        {
            EntryIndex.TrySet(table, entry.Slot, entry.Handle, entry.Generation, EntryIndex.Referenced);
        }
    }

    internal static bool TryStartRefresh(in CacheEntry entry) =>
        entry.Table is { } table && EntryIndex.TrySet(table, entry.Slot, entry.Handle, entry.Generation, EntryIndex.Refreshing);

    internal static int CountHit(in CacheEntry entry, long now, long window) =>
        entry.Table is { } table ? EntryIndex.CountHit(table, entry.Slot, now / Math.Max(1, window)) : 0;

    // ---- Writers: under _writeLock.

    /// <summary>
    /// Evicts until an entry of <paramref name="kind"/> in a block of <paramref name="sizeClass"/> fits the caps and the
    /// budget, counting the entry it replaces (<paramref name="replaced"/>, never evicted) as gone; returns the block, or -1.
    /// </summary>
    private int MakeRoom(EntryKind kind, int sizeClass, int replaced, long now)
    {
        bool replacesSameKind = replaced != None && RecordLayout.Kind(Record(replaced)) == kind;
        long replacedBytes = replaced == None ? 0 : BlockBytes(replaced);
        while (_counts[(int)kind] - (replacesSameKind ? 1 : 0) >= _caps[(int)kind])
        {
            if (!EvictOne(kind, None, replaced, now))
            {
                return None;
            }
        }

        while (_bytes - replacedBytes + SizeClasses.BytesOf(sizeClass) > Options.MaxBytes)
        {
            if (!EvictOne(null, None, replaced, now))
            {
                return None;
            }
        }

        for (int attempt = 0; attempt <= _blocks.Chunks + 1; attempt++)
        {
            int handle = _blocks.TryAllocate(sizeClass);
            if (handle != None)
            {
                return handle;
            }

            bool evicted = _blocks.HasChunksOf(sizeClass) && EvictOne(null, sizeClass, replaced, now);
            if (!evicted && !EvictChunk(replaced))
            {
                return None;
            }
        }

        return None;
    }

    /// <summary>
    /// Advances the CLOCK hand to an entry to evict (of <paramref name="kind"/> and in a block of <paramref name="sizeClass"/>
    /// when given) and evicts it: expired entries and entries not hit since the last pass go; hit ones get a second chance
    /// and lose their bit. False when no entry qualifies.
    /// </summary>
    private bool EvictOne(EntryKind? kind, int sizeClass, int spared, long now)
    {
        long steps = 2L * ((long)_blocks.Chunks * (SizeClasses.UnitsPerChunk + 1));
        for (long step = 0; step < steps && _blocks.Chunks > 0; step++)
        {
            if (_handChunk >= _blocks.Chunks)
            {
                _handChunk = 0;
                _handUnit = 0;
            }

            int chunkClass = _blocks.ClassOf(_handChunk);
            if (chunkClass == None || (sizeClass != None && chunkClass != sizeClass) || _handUnit >= _blocks.BumpOf(_handChunk))
            {
                _handChunk++;
                _handUnit = 0;
                continue;
            }

            // The chunk may have been carved for another size since the hand was last here: back onto a block boundary.
            int units = SizeClasses.UnitsOf(chunkClass);
            if (_handUnit % units != 0)
            {
                _handUnit += units - (_handUnit % units);
                continue;
            }

            int handle = BlockAllocator.HandleOf(_handChunk, _handUnit);
            _handUnit += units;
            Span<byte> record = Record(handle);
            if (!RecordLayout.IsLive(record) || handle == spared || (kind is { } only && RecordLayout.Kind(record) != only))
            {
                continue;
            }

            if (now < RecordLayout.ExpiresAt(record) && _index.TryClearReferenced(RecordLayout.Hash(record), handle))
            {
                continue;
            }

            Evict(handle);
            return true;
        }

        return false;
    }

    /// <summary>Evicts every entry of the carved chunk with the fewest (but not the chunk of <paramref name="spared"/>), so it can be carved anew.</summary>
    private bool EvictChunk(int spared)
    {
        int chunk = _blocks.LeastUsedChunk(spared == None ? None : BlockAllocator.ChunkOf(spared));
        if (chunk == None)
        {
            return false;
        }

        ForEachLiveIn(chunk, Evict);
        return true;
    }

    private void Evict(int handle)
    {
        _evictions[(int)RecordLayout.Kind(Record(handle))]++;
        Remove(handle);
    }

    private void Remove(int handle)
    {
        _index.Remove(RecordLayout.Hash(Record(handle)), handle);
        Free(handle);
    }

    /// <summary>Frees the block of an entry whose index slot is gone or points elsewhere.</summary>
    private void Free(int handle)
    {
        Span<byte> record = Record(handle);
        _counts[(int)RecordLayout.Kind(record)]--;
        _bytes -= BlockBytes(handle);
        uint version = BeginWrite(record);
        _blocks.Free(handle, record);
        EndWrite(record, version);
    }

    private void ForEachLive(Action<int> action)
    {
        for (int chunk = 0; chunk < _blocks.Chunks; chunk++)
        {
            if (_blocks.ClassOf(chunk) != None)
            {
                ForEachLiveIn(chunk, action);
            }
        }
    }

    /// <summary>Calls <paramref name="action"/> with every live entry of a carved chunk (it may remove the entry).</summary>
    private void ForEachLiveIn(int chunk, Action<int> action)
    {
        int units = SizeClasses.UnitsOf(_blocks.ClassOf(chunk));
        for (int unit = 0; unit + units <= _blocks.BumpOf(chunk); unit += units)
        {
            int handle = BlockAllocator.HandleOf(chunk, unit);
            if (RecordLayout.IsLive(Record(handle)))
            {
                action(handle);
            }
        }
    }

    /// <summary>Makes the record's version odd (readers fail their check from now on); returns that version.</summary>
    private static uint BeginWrite(Span<byte> record)
    {
        ref long state = ref RecordLayout.State(record);
        uint version = RecordLayout.Version(Volatile.Read(ref state));
        version += RecordLayout.IsStable((long)version << 32) ? 1u : 2u;
        Interlocked.Exchange(ref state, (long)version << 32);
        return version;
    }

    private static void EndWrite(Span<byte> record, uint version) =>
        Volatile.Write(ref RecordLayout.State(record), (long)(version + 1) << 32);

    private long RetainedUntil(ReadOnlySpan<byte> record)
    {
        long staleWindow = Options.StaleWindow > TimeSpan.Zero ? Ticks(Options.StaleWindow) : 0;
        if (RecordLayout.Kind(record) != EntryKind.Failure)
        {
            return RecordLayout.ExpiresAt(record) + staleWindow;
        }

        long backOffMemory = RecordLayout.ExpiresAt(record) + Ticks(Options.MaxFailureTtl);
        return RecordLayout.HasStale(record)
            ? Math.Max(backOffMemory, RecordLayout.ReadFields(record, stalePart: true).ExpiresAt + staleWindow)
            : backOffMemory;
    }

    private Span<byte> Record(int handle) =>
        _memory.From(BlockAllocator.ChunkOf(handle), BlockAllocator.UnitOf(handle) << SizeClasses.UnitShift);

    private int BlockBytes(int handle) => SizeClasses.BytesOf(_blocks.ClassOf(BlockAllocator.ChunkOf(handle)));

    private long Ticks(TimeSpan span) => (long)(span.TotalSeconds * _time.TimestampFrequency);

    private static int ChunkLimitFor(long maxBytes) => (int)Math.Clamp(maxBytes >> ChunkMemory.ChunkShift, 1, int.MaxValue);

    /// <summary>Hashes are seeded per process, so crafted names cannot force collisions.</summary>
    private static int Hash(ReadOnlySpan<byte> key)
    {
        var hash = new HashCode();
        hash.AddBytes(key);
        return hash.ToHashCode();
    }

    private static void Validate(CacheOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PositiveEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.NegativeEntries, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.FailureEntries, 1);
    }
}
