using System.Numerics;

namespace NodeDns.Dnstap;

/// <summary>
/// A bounded queue of dnstap messages, many writers (the listener threads) and one reader (the dnstap writer thread),
/// lock-free and without allocation (D. Vyukov's bounded queue: each slot's sequence number says whose turn it is).
/// A writer that finds the queue full drops its message and counts it; it never waits. Messages larger than
/// <see cref="DnstapEntry.InlineCapacity"/> take arrays of their own, at most <see cref="OversizeBudget"/> bytes at once.
/// </summary>
public sealed class DnstapQueue
{
    public const long OversizeBudget = 8 << 20;

    private readonly DnstapEntry[] _entries;
    private readonly long _mask;
    private long _enqueuePosition;
    private long _dequeuePosition;
    private long _oversizeBytes;

    /// <summary>Messages dropped because the queue was full (or its budget for large messages used up).</summary>
    public long Dropped;

    /// <param name="capacity">Rounded up to a power of two.</param>
    public DnstapQueue(int capacity)
    {
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, 2));
        _entries = new DnstapEntry[size];
        for (int i = 0; i < size; i++)
        {
            _entries[i] = new DnstapEntry(i);
        }

        _mask = size - 1;
    }

    public int Capacity => _entries.Length;

    /// <param name="unixTicks">When the message was received or sent, in 100 ns ticks since the Unix epoch.</param>
    public bool TryEnqueue(DnstapMessageTypes type, bool overTcp, in DnstapPeer initiator, in DnstapPeer responder, ReadOnlySpan<byte> message,
        long unixTicks)
    {
        if (message.Length > DnstapEntry.InlineCapacity && Interlocked.Add(ref _oversizeBytes, message.Length) > OversizeBudget)
        {
            Interlocked.Add(ref _oversizeBytes, -message.Length);
            Interlocked.Increment(ref Dropped);
            return false;
        }

        long position = Volatile.Read(ref _enqueuePosition);
        DnstapEntry entry;
        while (true)
        {
            entry = _entries[position & _mask];
            long turn = Volatile.Read(ref entry.Sequence) - position;
            if (turn == 0)
            {
                if (Interlocked.CompareExchange(ref _enqueuePosition, position + 1, position) == position)
                {
                    break;
                }
            }
            else if (turn < 0)
            {
                // The slot still holds a message from one lap ago: full.
                if (message.Length > DnstapEntry.InlineCapacity)
                {
                    Interlocked.Add(ref _oversizeBytes, -message.Length);
                }

                Interlocked.Increment(ref Dropped);
                return false;
            }

            position = Volatile.Read(ref _enqueuePosition);
        }

        entry.Fill(type, overTcp, initiator, responder, message, unixTicks);
        Volatile.Write(ref entry.Sequence, position + 1);
        return true;
    }

    /// <summary>The oldest message, or null when there is none. Only the one reader; it must <see cref="Release"/> it.</summary>
    public DnstapEntry? Peek()
    {
        DnstapEntry entry = _entries[_dequeuePosition & _mask];
        return Volatile.Read(ref entry.Sequence) == _dequeuePosition + 1 ? entry : null;
    }

    /// <summary>Gives the slot of the message <see cref="Peek"/> returned back to the writers.</summary>
    public void Release(DnstapEntry entry)
    {
        if (entry.IsOversize)
        {
            Interlocked.Add(ref _oversizeBytes, -entry.Length);
        }

        entry.Clear();
        Volatile.Write(ref entry.Sequence, _dequeuePosition + _mask + 1);
        _dequeuePosition++;
    }

    public bool IsEmpty => Peek() is null;
}
