namespace NodeDns.Serving;

public sealed record PipelineOptions
{
    /// <summary>Distinct questions forwarded at once; beyond it a miss is answered SERVFAIL at once.</summary>
    public int MaxInFlight { get; init; } = 10_000;

    /// <summary>Clients waiting for one forwarded question; beyond it a further client gets SERVFAIL at once.</summary>
    public int MaxWaitersPerQuestion { get; init; } = 1_000;

    /// <summary>With stale data at hand, how long a client waits for the upstream before it gets the stale answer (RFC 8767 client response timer).</summary>
    public TimeSpan StaleAnswerAfter { get; init; } = TimeSpan.FromMilliseconds(1800);

    /// <summary>TTL of a stale answer (RFC 8767 §4 recommends 30 s).</summary>
    public uint StaleTtl { get; init; } = 30;

    /// <summary>Serve a stale positive answer rather than a fresh NXDOMAIN/NODATA (CoreDNS's serve_stale_policy prefer_positive).</summary>
    public bool PreferPositiveStale { get; init; }

    /// <summary>Hits within <see cref="PrefetchWindow"/> that make an entry popular; 0 turns prefetch off.</summary>
    public int PrefetchHits { get; init; } = 2;

    public TimeSpan PrefetchWindow { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A popular entry is refreshed when this share of its TTL (percent) remains.</summary>
    public int PrefetchPercent { get; init; } = 10;
}
