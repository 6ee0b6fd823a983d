namespace NodeDns.Caching.Storage;

/// <summary>
/// Block sizes, in 64-byte units: four steps per power of two from 64 bytes to a whole chunk, so a record wastes at
/// most a fifth of its block (a tenth on average).
/// </summary>
internal static class SizeClasses
{
    public const int UnitShift = 6;
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
        var units = new List<int> { 1, 2, 3 };
        for (int power = 4; power <= UnitsPerChunk; power *= 2)
        {
            units.AddRange([power, power + (power / 4), power + (power / 2), power + (3 * power / 4)]);
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
