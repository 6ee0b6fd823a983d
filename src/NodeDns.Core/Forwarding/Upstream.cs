namespace NodeDns.Forwarding;

/// <summary>
/// An upstream server and its health. Passive: consecutive failed tries (timeouts, network errors) mark it down
/// after <see cref="MaxFails"/>; a success marks it up again. While it is down, an active probe checks it (see
/// Forwarder). A reload that keeps the server keeps this object, and so its health; one that drops it retires it,
/// which ends its probe.
/// </summary>
public sealed class Upstream(UpstreamServer server, int maxFails)
{
    private int _consecutiveFailures;
    private int _probing;
    private volatile int _maxFails = maxFails;
    private volatile bool _retired;

    public UpstreamServer Server { get; } = server;

    /// <summary>Consecutive failed tries that mark it down; 0 never does. A reload may change it.</summary>
    public int MaxFails
    {
        get => _maxFails;
        set => _maxFails = value;
    }

    public bool IsDown => _maxFails > 0 && Volatile.Read(ref _consecutiveFailures) >= _maxFails;

    /// <summary>No longer configured: nothing probes it any more.</summary>
    public bool IsRetired => _retired;

    public void RecordSuccess() => Volatile.Write(ref _consecutiveFailures, 0);

    /// <returns>True when this failure marked the upstream down.</returns>
    public bool RecordFailure() => _maxFails > 0 && Interlocked.Increment(ref _consecutiveFailures) == _maxFails;

    /// <summary>Claims the right to run the (single) health probe of this upstream.</summary>
    public bool TryStartProbing() => Interlocked.CompareExchange(ref _probing, 1, 0) == 0;

    public void StopProbing() => Volatile.Write(ref _probing, 0);

    public void Retire() => _retired = true;

    public override string ToString() => Server.ToString();
}
