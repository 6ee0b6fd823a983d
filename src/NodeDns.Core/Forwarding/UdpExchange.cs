using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// One upstream UDP query in flight: its socket (a descriptor, or a slot of the reactor's io_uring), ID and question,
/// and the task its caller awaits. Finished exactly once, by the reactor (a reply, an error) or by cancellation,
/// whichever claims it first; the socket is closed only on the reactor's thread, so its descriptor number (or slot)
/// cannot be reused while the reactor may still read it.
/// </summary>
internal sealed class UdpExchange(UdpReactor reactor, int descriptor, ushort id, UpstreamQuestion question, ForwarderCounters counters,
    System.Net.IPEndPoint server)
{
    private readonly TaskCompletionSource<DnsResponseMessage?> _completion = new();
    private int _claimed;

    public UdpReactor Reactor { get; } = reactor;

    /// <summary>The socket's descriptor, or -1 for a query on the reactor's io_uring (see <see cref="Slot"/>).</summary>
    public int Descriptor { get; } = descriptor;

    /// <summary>The ring slot (direct descriptor and buffers) of a query on the reactor's io_uring, else -1.</summary>
    public int Slot { get; init; } = -1;

    /// <summary>Tags the ring requests of this query's current chain; completions with another are stale. Owner thread only.</summary>
    public uint Sequence { get; set; }

    /// <summary>Whether a ring receive of this query may still write into its slot's buffer. Owner thread only.</summary>
    public bool ReceivePending { get; set; }

    /// <summary>The length of the query in a ring slot's buffer (sent again after a port was taken). Owner thread only.</summary>
    public int QueryLength { get; set; }

    /// <summary>Source ports tried that were taken. Owner thread only.</summary>
    public int BindFailures { get; set; }

    public ushort Id { get; } = id;
    public UpstreamQuestion Question { get; } = question;
    public ForwarderCounters Counters { get; } = counters;
    public System.Net.IPEndPoint Server { get; } = server;
    public CancellationTokenRegistration Registration { get; set; }
    public Task<DnsResponseMessage?> Task => _completion.Task;
    public bool IsFinished => Volatile.Read(ref _claimed) != 0;

    /// <summary>True for the one caller that may finish this exchange.</summary>
    public bool TryClaim() => Interlocked.Exchange(ref _claimed, 1) == 0;

    /// <summary>Completes the caller's task; its continuation runs on this thread.</summary>
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
        _completion.SetCanceled(cancellation);
    }
}
