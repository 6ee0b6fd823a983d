using NodeDns.Interop;

namespace NodeDns.Caching.Storage;

/// <summary>
/// The cache's memory, outside the GC heap: 128 KiB chunks in 8 MiB segments of anonymous mapped memory, each chunk
/// with a generation. Segments are mapped as the budget needs them and unmapped only when the cache itself is
/// collected, so a reader holding any chunk number reads mapped memory whatever the writer did meanwhile; a chunk
/// given back to the kernel reads as zeros. The writer bumps a chunk's generation before it carves the chunk anew or
/// gives it back, and readers check the generation around every read (see <see cref="RecordLayout"/>).
/// </summary>
internal sealed unsafe class ChunkMemory
{
    public const int ChunkShift = 17;
    public const int ChunkSize = 1 << ChunkShift;
    private const int SegmentShift = 6;
    private const int ChunksPerSegment = 1 << SegmentShift;
    private const nuint SegmentSize = (nuint)ChunksPerSegment * ChunkSize;

    private sealed class Segment(nint address)
    {
        public readonly nint Address = address;
        public readonly int[] Generations = new int[ChunksPerSegment];
    }

    /// <summary>Replaced whole when it grows; the segments themselves are shared by the old and the new array.</summary>
    private volatile Segment[] _segments = [];

    /// <summary>Maps segments until chunk <paramref name="chunk"/> exists. Writer only.</summary>
    public void EnsureChunk(int chunk)
    {
        Segment[] segments = _segments;
        if (chunk < segments.Length * ChunksPerSegment)
        {
            return;
        }

        var grown = new Segment[(chunk >> SegmentShift) + 1];
        segments.CopyTo(grown, 0);
        for (int i = segments.Length; i < grown.Length; i++)
        {
            grown[i] = new Segment(VirtualMemory.Map(SegmentSize));
        }

        _segments = grown;
    }

    /// <summary>The chunk's current generation (acquire). Readers compare it with the one their index slot holds.</summary>
    public int Generation(int chunk)
    {
        Segment[] segments = _segments;
        int segment = chunk >> SegmentShift;
        return segment < segments.Length ? Volatile.Read(ref segments[segment].Generations[chunk & (ChunksPerSegment - 1)]) : -1;
    }

    /// <summary>Starts a new life of the chunk (carved for another size, or released): readers of the old one fail their check.</summary>
    public int NextGeneration(int chunk) =>
        Interlocked.Increment(ref _segments[chunk >> SegmentShift].Generations[chunk & (ChunksPerSegment - 1)]);

    /// <summary>The bytes from <paramref name="offset"/> to the end of the chunk.</summary>
    public Span<byte> From(int chunk, int offset)
    {
        Segment[] segments = _segments;
        int segment = chunk >> SegmentShift;
        if (segment >= segments.Length || (uint)offset >= ChunkSize)
        {
            return [];
        }

        byte* start = (byte*)segments[segment].Address + ((nint)(chunk & (ChunksPerSegment - 1)) << ChunkShift) + offset;
        return new Span<byte>(start, ChunkSize - offset);
    }

    /// <summary>Gives the chunk's pages back to the kernel (after <see cref="NextGeneration"/>).</summary>
    public void Release(int chunk)
    {
        Segment segment = _segments[chunk >> SegmentShift];
        VirtualMemory.Release(segment.Address + ((nint)(chunk & (ChunksPerSegment - 1)) << ChunkShift), ChunkSize);
    }

    ~ChunkMemory()
    {
        foreach (Segment segment in _segments)
        {
            VirtualMemory.Unmap(segment.Address, SegmentSize);
        }
    }
}
