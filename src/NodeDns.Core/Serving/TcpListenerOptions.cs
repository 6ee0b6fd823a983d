namespace NodeDns.Serving;

public sealed record TcpListenerOptions
{
    /// <summary>Open client connections at once; further ones are closed on accept.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>Open connections from one client address; further ones are closed on accept.</summary>
    public int MaxConnectionsPerClient { get; init; } = 64;

    /// <summary>Queries answered concurrently per connection; reading pauses beyond it.</summary>
    public int MaxQueriesPerConnection { get; init; } = 16;

    /// <summary>Time allowed between queries before the connection is closed (RFC 7766 §6.2.3).</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed to receive one whole message once its first byte arrived (slowloris, TC-09).</summary>
    public TimeSpan MessageTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
