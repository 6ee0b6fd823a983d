namespace NodeDns.Caching.Storage;

/// <summary>
/// Block sizes, in 32-byte units (which keeps every record's state word 8-byte aligned): every unit up to 256 bytes,
/// eight steps per power of two up to 1 KiB, where nearly all answers are, and four steps per power of two from there
/// to a whole chunk. A record wastes at most 32 bytes or an eighth of its block below 1 KiB, a fifth above.
/// </summary>
internal static class SizeClasses
{
    public const int UnitShift = 5;
    public const int UnitsPerChunk = ChunkMemory.ChunkSize >> UnitShift;

    private static readonly int[] Units = BuildUnits();
    private static readonly byte[] ClassOfUnits = BuildLookup();

    public static int Count => Units.Length;

    /// <summary>The units of a block of class <paramref name="sizeClass"/>.</summary>
    public static int UnitsOf(int sizeClass) => Units[sizeClass];

    public static int BytesOf(int sizeClass) => Units[sizeClass] << UnitShift;

    /// <summary>The smallest class that holds <paramref name="bytes"/>; -1 when more than a chunk.</summary>
    public static int For(int bytes)
    {
        int units = (bytes + (1 << UnitShift) - 1) >> UnitShift;
        return units <= UnitsPerChunk ? ClassOfUnits[units] : -1;
    }

    private static int[] BuildUnits()
    {
        var units = new List<int> { 1, 2, 3, 4, 5, 6, 7 };
        for (int power = 8; power <= UnitsPerChunk; power *= 2)
        {
            int steps = power < 32 ? 8 : 4;
            units.AddRange(Enumerable.Range(0, steps).Select(step => power + (step * power / steps)));
        }

        return [.. units.Where(u => u <= UnitsPerChunk)];
    }

    private static byte[] BuildLookup()
    {
        byte[] lookup = new byte[UnitsPerChunk + 1];
        int sizeClass = 0;
        for (int units = 0; units <= UnitsPerChunk; units++)
        {
            while (Units[sizeClass] < units)
            {
                sizeClass++;
            }

            lookup[units] = (byte)sizeClass;
        }

        return lookup;
    }
}
