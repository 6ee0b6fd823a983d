namespace NodeDns.Forwarding;

/// <summary>Counters the forwarder updates with Interlocked; published as metrics at scrape time.</summary>
public sealed class ForwarderCounters
{
    public long UpstreamQueries;
    public long UpstreamTimeouts;
    public long UpstreamErrors;

    /// <summary>Replies that did not match the question (wrong ID, question, or malformed) and were ignored.</summary>
    public long RejectedReplies;
    public long TcpRetriesAfterTruncation;
}
