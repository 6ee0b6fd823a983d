namespace NodeDns.Serving;

/// <summary>
/// Where a query came in: which listener (its index in the daemon's list), over which transport and family, from
/// which client address, and — for UDP — the reactor of the listener thread that took it, which sends its miss
/// upstream and receives the reply on that same thread.
/// </summary>
public readonly record struct ClientContext(int Listener, bool OverTcp, bool Ipv6)
{
    public ClientAddress Address { get; init; }

    public Forwarding.UdpReactor? Reactor { get; init; }
}
