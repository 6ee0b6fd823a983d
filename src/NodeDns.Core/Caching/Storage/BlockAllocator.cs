namespace NodeDns.Caching.Storage;

/// <summary>
/// Hands out blocks of <see cref="ChunkMemory"/> by size class. Each chunk serves one class at a time: blocks never used
/// are taken by bumping a pointer (so pages are touched only when used), freed blocks go on the chunk's own free list.
/// At most <see cref="ChunkLimit"/> chunks are carved at once; an empty chunk may be carved anew for another class or
/// given back to the kernel. Writer only: every call is made under the cache's lock.
/// A handle is the chunk number times <see cref="SizeClasses.UnitsPerChunk"/> plus the block's first unit.
/// </summary>
internal sealed class BlockAllocator
{
    private const int None = -1;

    private readonly ChunkMemory _memory;
    private readonly List<int>[] _withRoom = [.. Enumerable.Range(0, SizeClasses.Count).Select(_ => new List<int>())];
    private readonly Stack<int> _uncarved = new();
    private readonly List<int> _emptied = [];
    private readonly int[] _chunksOfClass = new int[SizeClasses.Count];
    private int[] _class = [];
    private int[] _used = [];
    private int[] _bump = [];
    private int[] _freeHead = [];
    private int[] _listedIn = [];
    private bool[] _isEmptied = [];

    public BlockAllocator(ChunkMemory memory, int chunkLimit)
    {
        _memory = memory;
        ChunkLimit = chunkLimit;
    }

    /// <summary>Most chunks carved at once (the byte budget over the chunk size, at least one).</summary>
    public int ChunkLimit { get; set; }

    /// <summary>Chunks carved now.</summary>
    public int Carved { get; private set; }

    /// <summary>Chunks mapped so far.</summary>
    public int Chunks => _class.Length;

    public static int HandleOf(int chunk, int unit) => (chunk * SizeClasses.UnitsPerChunk) + unit;

    public static int ChunkOf(int handle) => handle / SizeClasses.UnitsPerChunk;

    public static int UnitOf(int handle) => handle % SizeClasses.UnitsPerChunk;

    public int ClassOf(int chunk) => _class[chunk];

    /// <summary>Units handed out by bumping in <paramref name="chunk"/>: blocks below it are live or free.</summary>
    public int BumpOf(int chunk) => _bump[chunk];

    public bool HasChunksOf(int sizeClass) => _chunksOfClass[sizeClass] > 0;

    /// <summary>A block of <paramref name="sizeClass"/> without evicting anything, or -1 (the caller evicts and asks again).</summary>
    public int TryAllocate(int sizeClass)
    {
        List<int> withRoom = _withRoom[sizeClass];
        while (withRoom.Count > 0)
        {
            int chunk = withRoom[^1];
            if (_class[chunk] == sizeClass && TakeFrom(chunk, sizeClass) is int handle and >= 0)
            {
                return handle;
            }

            withRoom.RemoveAt(withRoom.Count - 1);
            if (_listedIn[chunk] == sizeClass)
            {
                _listedIn[chunk] = None;
            }
        }

        int fresh = Carved < ChunkLimit ? NewChunk() : TakeEmptied();
        if (fresh == None)
        {
            return None;
        }

        Carve(fresh, sizeClass);
        return TakeFrom(fresh, sizeClass);
    }

    /// <summary>Takes a block back: marks it free in memory (the caller holds its state odd) and links it into its chunk's free list.</summary>
    public void Free(int handle, Span<byte> record)
    {
        int chunk = ChunkOf(handle);
        RecordLayout.WriteFree(record, _freeHead[chunk]);
        _freeHead[chunk] = UnitOf(handle);
        _used[chunk]--;
        List(chunk);

        if (_used[chunk] == 0 && !_isEmptied[chunk])
        {
            _emptied.Add(chunk);
            _isEmptied[chunk] = true;
        }
    }

    /// <summary>The carved chunk with the fewest live blocks (the cheapest to empty) other than <paramref name="spared"/>, or -1.</summary>
    public int LeastUsedChunk(int spared)
    {
        int best = None;
        for (int chunk = 0; chunk < _class.Length; chunk++)
        {
            if (_class[chunk] != None && chunk != spared && (best == None || _used[chunk] < _used[best]))
            {
                best = chunk;
            }
        }

        return best;
    }

    /// <summary>Gives every empty chunk back to the kernel; returns how many.</summary>
    public int ReleaseEmptied()
    {
        int released = 0;
        foreach (int chunk in _emptied)
        {
            _isEmptied[chunk] = false;
            if (_class[chunk] != None && _used[chunk] == 0)
            {
                Uncarve(chunk);
                _memory.Release(chunk);
                released++;
            }
        }

        _emptied.Clear();
        return released;
    }

    /// <summary>Puts the chunk on its class's list of chunks with room (once; entries of an earlier class are dropped lazily).</summary>
    private void List(int chunk)
    {
        if (_listedIn[chunk] != _class[chunk])
        {
            _withRoom[_class[chunk]].Add(chunk);
            _listedIn[chunk] = _class[chunk];
        }
    }

    private int TakeFrom(int chunk, int sizeClass)
    {
        int units = SizeClasses.UnitsOf(sizeClass);
        int unit;
        if (_freeHead[chunk] != None)
        {
            unit = _freeHead[chunk];
            _freeHead[chunk] = RecordLayout.NextFree(_memory.From(chunk, unit << SizeClasses.UnitShift));
        }
        else if (_bump[chunk] + units <= SizeClasses.UnitsPerChunk)
        {
            unit = _bump[chunk];
            _bump[chunk] += units;
        }
        else
        {
            return None;
        }

        _used[chunk]++;
        return HandleOf(chunk, unit);
    }

    private int NewChunk()
    {
        if (_uncarved.Count > 0)
        {
            return _uncarved.Pop();
        }

        int chunk = _class.Length;
        _memory.EnsureChunk(chunk);
        Array.Resize(ref _class, chunk + 1);
        Array.Resize(ref _used, chunk + 1);
        Array.Resize(ref _bump, chunk + 1);
        Array.Resize(ref _freeHead, chunk + 1);
        Array.Resize(ref _listedIn, chunk + 1);
        Array.Resize(ref _isEmptied, chunk + 1);
        _class[chunk] = None;
        _listedIn[chunk] = None;
        return chunk;
    }

    /// <summary>An empty carved chunk of any class, uncarved for reuse, or -1.</summary>
    private int TakeEmptied()
    {
        while (_emptied.Count > 0)
        {
            int chunk = _emptied[^1];
            _emptied.RemoveAt(_emptied.Count - 1);
            _isEmptied[chunk] = false;
            if (_class[chunk] != None && _used[chunk] == 0)
            {
                Uncarve(chunk);
                return _uncarved.Pop();
            }
        }

        return None;
    }

    private void Carve(int chunk, int sizeClass)
    {
        _memory.NextGeneration(chunk);
        _class[chunk] = sizeClass;
        _chunksOfClass[sizeClass]++;
        _used[chunk] = 0;
        _bump[chunk] = 0;
        _freeHead[chunk] = None;
        List(chunk);
        Carved++;
    }

    private void Uncarve(int chunk)
    {
        _memory.NextGeneration(chunk);
        _chunksOfClass[_class[chunk]]--;
        _class[chunk] = None;
        _bump[chunk] = 0;
        _freeHead[chunk] = None;
        _uncarved.Push(chunk);
        Carved--;
    }
}
