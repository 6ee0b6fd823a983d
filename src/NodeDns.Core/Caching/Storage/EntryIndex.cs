using System.Numerics;

namespace NodeDns.Caching.Storage;

/// <summary>
/// The key → record index: open addressing with linear probing over one array of 64-bit slots, no object per entry.
/// A slot holds the record's handle, the generation of its chunk (so a slot can never lead into a chunk carved anew),
/// 14 bits of the key's hash (a cheap filter before the key itself is compared in the record) and the two flags readers
/// set: referenced (CLOCK) and refreshing (a prefetch runs). Beside each slot, a word of prefetch popularity. Readers
/// write nothing but these, by compare-and-swap against the slot value they found (or, for popularity, racily: a lost
/// or misplaced count only shifts a heuristic) — never the chunks' memory, which another entry may hold by then.
/// Removal leaves a tombstone. The writer (under the cache's lock) changes single slots atomically and, when tombstones
/// and entries fill half of the array, builds a new table and publishes it whole — a reader still walking the old one
/// finds what was there, or misses. The table retired by one rebuild is refilled by the next one of the same size
/// (under a flood of new names, a rebuild every few thousand inserts would otherwise allocate the whole index anew):
/// a reader that stalled in it through a whole rebuild cycle sees slots vanish and appear, which costs it a miss, never
/// a wrong answer, because every slot a reader follows is checked against the key stored in its record.
/// </summary>
internal sealed class EntryIndex(Func<int, int> hashOfHandle)
{
    public const long Referenced = 1L << 63;
    public const long Refreshing = 1L << 62;
    private const long HandleMask = 0xFFFF_FFFF;
    private const long RecordMask = 0xFFFF_FFFF_FFFF;
    private const long Tombstone = HandleMask;
    private const int MinimumCapacity = 1024;
    private const int HitBits = 20;
    private const int MaxHits = (1 << HitBits) - 1;

    /// <summary>The slots and their popularity words, published together.</summary>
    internal sealed class Table(int capacity)
    {
        public readonly long[] Slots = new long[capacity];
        public readonly int[] Popularity = new int[capacity];
    }

    private Table _table = new(MinimumCapacity);

    /// <summary>The table the last rebuild retired, for the next rebuild to refill.</summary>
    private Table? _retired;
    private int _live;
    private int _used;

    public Table Current => Volatile.Read(ref _table);

    public static bool IsEmpty(long slot) => slot == 0;

    public static bool IsTombstone(long slot) => (slot & HandleMask) == Tombstone;

    public static int Tag(int hash) => (int)((uint)hash >> 18);

    public static int TagOf(long slot) => (int)((slot >> 48) & 0x3FFF);

    public static int Handle(long slot) => (int)((slot & HandleMask) - 1);

    public static int GenerationOf(long slot) => (ushort)(slot >> 32);

    public static ushort Generation(int chunkGeneration) => (ushort)chunkGeneration;

    /// <summary>Whether <paramref name="slot"/> still holds the record <paramref name="handle"/> of chunk generation <paramref name="generation"/>.</summary>
    public static bool Holds(long slot, int handle, int generation) =>
        (slot & RecordMask) == (((long)(ushort)generation << 32) | (uint)(handle + 1));

    private static long Slot(int hash, int generation, int handle) =>
        ((long)Tag(hash) << 48) | ((long)(ushort)generation << 32) | (uint)(handle + 1);

    /// <summary>Sets <paramref name="flag"/> on the slot if it still holds the record; false when it was set already or the slot changed.</summary>
    public static bool TrySet(Table table, int index, int handle, int generation, long flag)
    {
        ref long slot = ref table.Slots[index];
        long current = Volatile.Read(ref slot);
        return Holds(current, handle, generation) && (current & flag) == 0
            && Interlocked.CompareExchange(ref slot, current | flag, current) == current;
    }

    /// <summary>Counts a hit in the window numbered <paramref name="window"/>; returns the hits counted in it.</summary>
    public static int CountHit(Table table, int index, long window)
    {
        ref int popularity = ref table.Popularity[index];
        int current = popularity;
        int windowBits = (int)(window & 0xFFF);
        int hits = (current >>> HitBits) == windowBits ? Math.Min((current & MaxHits) + 1, MaxHits) : 1;
        popularity = (windowBits << HitBits) | hits;
        return hits;
    }

    /// <summary>Clears the referenced flag of the record's slot; true when it was set (the entry gets a second chance). Writer only.</summary>
    public bool TryClearReferenced(int hash, int handle)
    {
        Table table = _table;
        int at = Find(table.Slots, hash, handle);
        if (at < 0)
        {
            return false;
        }

        ref long slot = ref table.Slots[at];
        long current = Volatile.Read(ref slot);
        return (current & Referenced) != 0 && Interlocked.CompareExchange(ref slot, current & ~Referenced, current) == current;
    }

    /// <summary>
    /// Replaces the slot of <paramref name="oldHandle"/> with the new record (flags cleared, popularity kept), or adds a
    /// slot. Writer only.
    /// </summary>
    public void Put(int hash, int generation, int handle, int oldHandle)
    {
        Table table = _table;
        long value = Slot(hash, generation, handle);
        if (oldHandle >= 0 && Find(table.Slots, hash, oldHandle) is int at and >= 0)
        {
            Volatile.Write(ref table.Slots[at], value);
            return;
        }

        if ((_used + 1) * 2 > table.Slots.Length)
        {
            table = Rebuild();
        }

        int mask = table.Slots.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            if (IsEmpty(table.Slots[i]) || IsTombstone(table.Slots[i]))
            {
                _used += IsEmpty(table.Slots[i]) ? 1 : 0;
                _live++;
                table.Popularity[i] = 0;
                Volatile.Write(ref table.Slots[i], value);
                return;
            }
        }
    }

    /// <summary>Removes the slot of <paramref name="handle"/>. Writer only.</summary>
    public void Remove(int hash, int handle)
    {
        Table table = _table;
        int at = Find(table.Slots, hash, handle);
        if (at >= 0)
        {
            Volatile.Write(ref table.Slots[at], Tombstone);
            _live--;
        }
    }

    private static int Find(long[] slots, int hash, int handle)
    {
        int mask = slots.Length - 1;
        for (int i = hash & mask, probes = 0; probes < slots.Length && !IsEmpty(slots[i]); i = (i + 1) & mask, probes++)
        {
            if (!IsTombstone(slots[i]) && Handle(slots[i]) == handle)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>A new table without tombstones, four times the live entries (load at most a half before the next rebuild).</summary>
    private Table Rebuild()
    {
        Table old = _table;
        int capacity = Math.Max(MinimumCapacity, (int)BitOperations.RoundUpToPowerOf2((uint)(_live + 1) * 4));
        Table table;
        if (_retired is { } retired && retired.Slots.Length == capacity)
        {
            table = retired;
            Array.Clear(table.Slots);
            Array.Clear(table.Popularity);
        }
        else
        {
            table = new Table(capacity);
        }

        int mask = table.Slots.Length - 1;
        for (int from = 0; from < old.Slots.Length; from++)
        {
            long slot = old.Slots[from];
            if (!IsEmpty(slot) && !IsTombstone(slot))
            {
                int i = hashOfHandle(Handle(slot)) & mask;
                while (!IsEmpty(table.Slots[i]))
                {
                    i = (i + 1) & mask;
                }

                table.Slots[i] = slot;
                table.Popularity[i] = old.Popularity[from];
            }
        }

        _used = _live;
        Volatile.Write(ref _table, table);
        _retired = old;
        return table;
    }
}
