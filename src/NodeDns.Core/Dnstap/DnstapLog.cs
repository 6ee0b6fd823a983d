namespace NodeDns.Dnstap;

/// <summary>
/// Where the serving and forwarding code hands dnstap messages: a copy goes into a bounded queue that
/// <see cref="DnstapWriter"/> drains on its own thread. Never blocks and never allocates (beyond a message larger than a
/// queue slot); a full queue drops the message and counts it. The reader thread is woken only when it sleeps.
/// </summary>
public sealed class DnstapLog(DnstapMessageTypes types, int capacity)
{
    private readonly ManualResetEventSlim _wake = new(false);
    private int _readerSleeps;

    public DnstapQueue Queue { get; } = new(capacity);

    public DnstapMessageTypes Types => types;

    /// <summary>Now, as dnstap timestamps count: 100 ns ticks since the Unix epoch.</summary>
    public static long Now() => DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;

    /// <param name="at">When the message was received or sent (<see cref="Now"/>), if not now.</param>
    public void Log(DnstapMessageTypes type, bool overTcp, in DnstapPeer initiator, in DnstapPeer responder, ReadOnlySpan<byte> message, long at = 0)
    {
        if ((types & type) != 0 && Queue.TryEnqueue(type, overTcp, initiator, responder, message, at == 0 ? Now() : at)
            && Volatile.Read(ref _readerSleeps) == 1 && Interlocked.Exchange(ref _readerSleeps, 0) == 1)
        {
            _wake.Set();
        }
    }

    /// <summary>The reader waits here until a message is queued or <paramref name="timeout"/> passes.</summary>
    internal void WaitForMessages(TimeSpan timeout, CancellationToken cancellation)
    {
        _wake.Reset();
        Interlocked.Exchange(ref _readerSleeps, 1); // a full fence: a message queued after the check below wakes us
        if (Queue.IsEmpty)
        {
            try
            {
                _wake.Wait(timeout, cancellation);
            }
            catch (OperationCanceledException)
            {
            }
        }

        Volatile.Write(ref _readerSleeps, 0);
    }
}
