namespace NodeDns.Forwarding;

/// <summary>
/// An upstream server and its health. Passive: consecutive failed tries (timeouts, network errors) mark it down
/// after <c>maxFails</c>; a success marks it up again. While it is down, an active probe checks it (see Forwarder).
/// </summary>
public sealed class Upstream(UpstreamServer server, int maxFails)
{
    private int _consecutiveFailures;
    private int _probing;

    public UpstreamServer Server { get; } = server;
    public bool IsDown => maxFails > 0 && Volatile.Read(ref _consecutiveFailures) >= maxFails;

    public void RecordSuccess() => Volatile.Write(ref _consecutiveFailures, 0);

    /// <returns>True when this failure marked the upstream down.</returns>
    public bool RecordFailure() => maxFails > 0 && Interlocked.Increment(ref _consecutiveFailures) == maxFails;

    /// <summary>Claims the right to run the (single) health probe of this upstream.</summary>
    public bool TryStartProbing() => Interlocked.CompareExchange(ref _probing, 1, 0) == 0;

    public void StopProbing() => Volatile.Write(ref _probing, 0);

    public override string ToString() => Server.ToString();
}
