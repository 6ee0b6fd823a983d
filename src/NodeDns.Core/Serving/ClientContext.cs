namespace NodeDns.Serving;

/// <summary>
/// Where a query came in: which listener (its index in the daemon's list), over which transport and family, and
/// from which client address.
/// </summary>
public readonly record struct ClientContext(int Listener, bool OverTcp, bool Ipv6)
{
    public ClientAddress Address { get; init; }
}
