using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// One upstream UDP query in flight: its socket, ID and question, and the task its caller awaits. Finished exactly
/// once, by the reactor (a reply, an error) or by cancellation, whichever claims it first; the socket is closed only on
/// the reactor's thread, so its descriptor number cannot be reused while the reactor may still read it.
/// </summary>
internal sealed class UdpExchange(UdpReactor reactor, int descriptor, ushort id, UpstreamQuestion question, ForwarderCounters counters,
    System.Net.IPEndPoint server)
{
    private readonly TaskCompletionSource<DnsResponseMessage?> _completion = new();
    private int _claimed;

    public UdpReactor Reactor { get; } = reactor;
    public int Descriptor { get; } = descriptor;
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
