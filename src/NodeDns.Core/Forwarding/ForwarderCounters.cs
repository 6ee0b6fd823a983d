namespace NodeDns.Forwarding;

/// <summary>
/// What the forwarder reports: counters it updates with Interlocked (published as metrics at scrape time), the
/// callbacks below, and the dnstap log of upstream queries and replies.
/// </summary>
public sealed class ForwarderCounters
{
    public long UpstreamQueries;
    public long UpstreamTimeouts;
    public long UpstreamErrors;

    /// <summary>Replies that did not match the question (wrong ID, question, or malformed) and were ignored.</summary>
    public long RejectedReplies;
    public long TcpRetriesAfterTruncation;
    public long UpstreamsMarkedDown;

    /// <summary>Queries forwarded while every upstream of their zone was marked down.</summary>
    public long AllUpstreamsDown;

    /// <summary>Called with the round-trip time of every answered try (the metrics layer records it).</summary>
    public Action<UpstreamServer, int, TimeSpan>? AnswerObserved { get; set; }

    /// <summary>Called with the upstream of every failed health probe.</summary>
    public Action<UpstreamServer>? HealthCheckFailed { get; set; }

    /// <summary>Where each query sent upstream and each matching reply go for dnstap; null when dnstap is off.</summary>
    public Dnstap.DnstapLog? Dnstap { get; init; }

    /// <summary>Called with the reason when every try of a question failed (the host logs it, rate-limited).</summary>
    public Action<UpstreamQuestion, string>? ForwardFailed { get; set; }

    public void Observe(UpstreamServer server, int rcode, TimeSpan duration) => AnswerObserved?.Invoke(server, rcode, duration);
}
