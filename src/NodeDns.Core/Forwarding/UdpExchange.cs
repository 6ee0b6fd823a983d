using System.Threading.Tasks.Sources;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// One upstream UDP query in flight: its socket (a descriptor, or a slot of the reactor's io_uring), ID and question,
/// and the result its caller awaits. Finished exactly once, by the reactor (a reply, an error) or by cancellation,
/// whichever claims it first; the socket is closed only on the reactor's thread, so its descriptor number (or slot)
/// cannot be reused while the reactor may still read it. Reused for query after query: it goes back to its reactor
/// once every holder let go — the reactor (socket closed), the caller (result taken) and a pending cancellation.
/// </summary>
internal sealed class UdpExchange(UdpReactor reactor) : IValueTaskSource<DnsResponseMessage?>
{
    private ManualResetValueTaskSourceCore<DnsResponseMessage?> _completion;
    private int _claimed;
    private int _holds;

    public UdpReactor Reactor { get; } = reactor;

    /// <summary>The socket's descriptor, or -1 for a query on the reactor's io_uring (see <see cref="Slot"/>).</summary>
    public int Descriptor { get; private set; } = -1;

    /// <summary>The ring slot (direct descriptor and buffers) of a query on the reactor's io_uring, else -1.</summary>
    public int Slot { get; private set; } = -1;

    /// <summary>Tags the ring requests of this query's current chain; completions with another are stale. Owner thread only.</summary>
    public uint Sequence { get; set; }

    /// <summary>Whether a ring receive of this query may still write into its slot's buffer. Owner thread only.</summary>
    public bool ReceivePending { get; set; }

    /// <summary>The length of the query in a ring slot's buffer (sent again after a port was taken). Owner thread only.</summary>
    public int QueryLength { get; set; }

    /// <summary>Source ports tried that were taken. Owner thread only.</summary>
    public int BindFailures { get; set; }

    public ushort Id { get; private set; }
    public UpstreamQuestion Question { get; private set; } = null!;
    public ForwarderCounters Counters { get; private set; } = null!;
    public System.Net.IPEndPoint Server { get; private set; } = null!;
    public CancellationTokenRegistration Registration { get; set; }
    public ValueTask<DnsResponseMessage?> Task => new(this, _completion.Version);
    public bool IsFinished => Volatile.Read(ref _claimed) != 0;

    /// <summary>Sets this (new or given back) exchange up for a query: held by the reactor and by the caller.</summary>
    public void Begin(int descriptor, int slot, ushort id, UpstreamQuestion question, ForwarderCounters counters, System.Net.IPEndPoint server)
    {
        Descriptor = descriptor;
        Slot = slot;
        Id = id;
        Question = question;
        Counters = counters;
        Server = server;
        ReceivePending = false;
        QueryLength = 0;
        BindFailures = 0;
        _claimed = 0;
        _holds = 2;
    }

    /// <summary>True for the one caller that may finish this exchange.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>Completes the caller's wait; its continuation runs on this thread.</summary>
    public void Complete(DnsResponseMessage? response)
    {
        Registration.Unregister();
        _completion.SetResult(response);
    }

    public void Fail(Exception error)
    {
        Registration.Unregister();
        _completion.SetException(error);
    }

    public void Cancel(CancellationToken cancellation)
    {
        Registration.Unregister();
        _completion.SetException(new OperationCanceledException(cancellation));
    }

    /// <summary>A cancellation holds the exchange until the reactor has dealt with it (see <see cref="UdpReactor.Abandon"/>).</summary>
    public void Hold() => Interlocked.Increment(ref _holds);

    /// <summary>Lets go of the exchange; the last holder gives it back to its reactor.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holds) == 0)
        {
            Reactor.Return(this);
        }
    }

    /// <summary>Ready for the next query; only once no one holds it.</summary>
    public void Reset()
    {
        // A registration made after the reply had already come (a query started off the reactor's thread) is still
        // there; disposing it also waits for its callback if that is running on another thread.
        Registration.Dispose();
        Registration = default;
        _completion.Reset();
        Question = null!;
        Counters = null!;
        Server = null!;
    }

    public DnsResponseMessage? GetResult(short token)
    {
        try
        {
            return _completion.GetResult(token);
        }
        finally
        {
            Release();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);
}
