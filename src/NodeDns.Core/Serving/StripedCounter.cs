namespace NodeDns.Serving;

/// <summary>
/// A counter bumped on every query by every listener thread: one cell per processor, each on its own cache line, so
/// threads on different cores never fight over one line (a shared Interlocked counter moves its line between cores
/// on every increment). The value is the sum of the cells, read at scrape time.
/// </summary>
public sealed class StripedCounter
{
    private const int CellStride = 16; // longs: 128 bytes, two lines, also clear of the adjacent-line prefetcher

    private readonly long[] _cells;
    private readonly int _mask;

    public StripedCounter()
    {
        int stripes = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount);
        _cells = new long[(stripes + 1) * CellStride]; // cell i at (i + 1) * stride: none shares the array header's line
        _mask = stripes - 1;
    }

    public void Increment() => Interlocked.Increment(ref _cells[((Thread.GetCurrentProcessorId() & _mask) + 1) * CellStride]);

    public long Value
    {
        get
        {
            long sum = 0;
            for (int i = CellStride; i < _cells.Length; i += CellStride)
            {
                sum += Interlocked.Read(ref _cells[i]);
            }

            return sum;
        }
    }
}
