using System.Numerics;

namespace NodeDns.Caching.Storage;

/// <summary>
/// The key → record index: open addressing with linear probing over one array of 64-bit slots, no object per entry.
/// A slot holds 16 bits of the key's hash (a cheap filter before the key itself is compared in the record), the
/// generation of the record's chunk (so a slot can never lead into a chunk carved anew), and the record's handle.
/// Removal leaves a tombstone. Readers read the array without locks; the writer (under the cache's lock) changes single
/// slots atomically and, when tombstones and entries fill half of it, builds a new array and publishes it whole — a
/// reader still walking the old one finds what was there, or misses.
/// </summary>
internal sealed class EntryIndex(Func<int, int> hashOfHandle)
{
    private const long HandleMask = 0xFFFF_FFFF;
    private const long Tombstone = HandleMask;
    private const int MinimumCapacity = 1024;

    private long[] _slots = new long[MinimumCapacity];
    private int _live;
    private int _used;

    public long[] Slots => Volatile.Read(ref _slots);

    public int Count => _live;

    public static bool IsEmpty(long slot) => slot == 0;

    public static bool IsTombstone(long slot) => (slot & HandleMask) == Tombstone;

    public static ushort Tag(int hash) => (ushort)((uint)hash >> 16);

    public static ushort TagOf(long slot) => (ushort)((ulong)slot >> 48);

    public static int Handle(long slot) => (int)(slot & HandleMask) - 1;

    public static int GenerationOf(long slot) => (ushort)(slot >> 32);

    public static ushort Generation(int chunkGeneration) => (ushort)chunkGeneration;

    private static long Slot(int hash, int generation, int handle) =>
        ((long)Tag(hash) << 48) | ((long)(ushort)generation << 32) | (uint)(handle + 1);

    /// <summary>Replaces the slot of <paramref name="oldHandle"/> with the new record, or adds a slot. Writer only.</summary>
    public void Put(int hash, int generation, int handle, int oldHandle)
    {
        long[] slots = _slots;
        long value = Slot(hash, generation, handle);
        if (oldHandle >= 0 && Find(slots, hash, oldHandle) is int at and >= 0)
        {
            Volatile.Write(ref slots[at], value);
            return;
        }

        if ((_used + 1) * 2 > slots.Length)
        {
            slots = Rebuild();
        }

        int mask = slots.Length - 1;
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            if (IsEmpty(slots[i]) || IsTombstone(slots[i]))
            {
                _used += IsEmpty(slots[i]) ? 1 : 0;
                _live++;
                Volatile.Write(ref slots[i], value);
                return;
            }
        }
    }

    /// <summary>Removes the slot of <paramref name="handle"/>. Writer only.</summary>
    public void Remove(int hash, int handle)
    {
        long[] slots = _slots;
        int at = Find(slots, hash, handle);
        if (at >= 0)
        {
            Volatile.Write(ref slots[at], Tombstone);
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

    /// <summary>A new array without tombstones, four times the live entries (load at most a half before the next rebuild).</summary>
    private long[] Rebuild()
    {
        long[] old = _slots;
        var slots = new long[Math.Max(MinimumCapacity, (int)BitOperations.RoundUpToPowerOf2((uint)(_live + 1) * 4))];
        int mask = slots.Length - 1;
        foreach (long slot in old)
        {
            if (!IsEmpty(slot) && !IsTombstone(slot))
            {
                int i = hashOfHandle(Handle(slot)) & mask;
                while (!IsEmpty(slots[i]))
                {
                    i = (i + 1) & mask;
                }

                slots[i] = slot;
            }
        }

        _used = _live;
        Volatile.Write(ref _slots, slots);
        return slots;
    }
}
