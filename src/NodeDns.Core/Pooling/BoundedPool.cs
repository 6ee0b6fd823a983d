using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace NodeDns.Pooling;

/// <summary>
/// Objects kept for reuse, taken and given back on any thread, at most <c>capacity</c> of them: what a miss needs
/// from its start to its answer is reused instead of left to the GC. Taking and giving back allocate nothing once
/// the pool has been full.
/// </summary>
internal sealed class BoundedPool<T>(int capacity) where T : class
{
    private readonly ConcurrentQueue<T> _idle = new();
    private int _count;

    public bool TryTake([NotNullWhen(true)] out T? item)
    {
        if (!_idle.TryDequeue(out item))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <returns>False when the pool is full: the caller drops <paramref name="item"/> (disposing it if it must).</returns>
    public bool TryReturn(T item)
    {
        if (Interlocked.Increment(ref _count) <= capacity)
        {
            _idle.Enqueue(item);
            return true;
        }

        Interlocked.Decrement(ref _count);
        return false;
    }
}
