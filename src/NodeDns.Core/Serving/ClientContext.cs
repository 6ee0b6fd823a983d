namespace NodeDns.Serving;

/// <summary>Where a query came in: which listener (its index in the daemon's list), over which transport and family.</summary>
public readonly record struct ClientContext(int Listener, bool OverTcp, bool Ipv6);
