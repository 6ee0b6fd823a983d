namespace NodeDns.Serving;

/// <summary>
/// Counters the serving path updates, published as metrics at scrape time: those bumped on every query are striped
/// per processor (<see cref="StripedCounter"/>), the rarer ones are plain Interlocked fields.
/// </summary>
public sealed class ServerCounters
{
    internal readonly StripedCounter Hits = new();
    internal readonly StripedCounter NegativeHitCount = new();
    internal readonly StripedCounter Misses = new();
    internal readonly StripedCounter FailureHitCount = new();
    internal readonly StripedCounter Autopathed = new();

    public long CacheHits => Hits.Value;
    public long NegativeHits => NegativeHitCount.Value;
    public long CacheMisses => Misses.Value;

    /// <summary>Hits on a cached failure: answered SERVFAIL (or stale) without asking upstream.</summary>
    public long FailureHits => FailureHitCount.Value;
    public long ServedStale;
    public long Prefetches;

    /// <summary>Misses that joined a query already in flight for the same key instead of asking upstream again.</summary>
    public long Coalesced;

    /// <summary>Datagrams dropped without an answer: shorter than a header, or responses (QR=1).</summary>
    public long Dropped;

    /// <summary>Misses answered SERVFAIL at once because too many were in flight, or waited for one question.</summary>
    public long Overloaded;
    public long TcpConnections;
    public long TcpConnectionsClosed;
    public long TcpConnectionsRejected;
    public long SendErrors;

    /// <summary>Answers autopath found under another name of the client's search list.</summary>
    public long AutopathAnswers => Autopathed.Value;

    /// <summary>Queries the clients did not have to send because autopath answered for them.</summary>
    public long AutopathExpansionsSaved;

    /// <summary>UDP misses whose answer was ready on a thread other than the listener thread that took them.</summary>
    public long MissesCompletedOffListener;

    /// <summary>Bugs caught at the edge of a query: the client got SERVFAIL, the daemon kept serving.</summary>
    public long InternalErrors;
}
