namespace NodeDns.Caching;

/// <summary>Bounds and policies of the answer cache.</summary>
public sealed record CacheOptions
{
    public int PositiveEntries { get; init; } = 10_000;
    public int NegativeEntries { get; init; } = 10_000;

    /// <summary>Entries whose upstreams failed, remembered for back-off and serve-stale.</summary>
    public int FailureEntries { get; init; } = 10_000;

    /// <summary>One byte budget for all entries together.</summary>
    public long MaxBytes { get; init; } = 64L << 20;

    /// <summary>How long an expired answer may still be served when the upstreams fail (RFC 8767); zero turns it off.</summary>
    public TimeSpan StaleWindow { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Longest time a failure is cached (RFC 9520 §3.2: back-off from 1 s, at most 5 min).</summary>
    public TimeSpan MaxFailureTtl { get; init; } = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan HardMaxFailureTtl = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxStaleWindow = TimeSpan.FromDays(1);

    /// <summary>TTL of a failure entry after <paramref name="streak"/> failures in a row: 1, 2, 4, ... s up to the bound.</summary>
    public uint FailureTtl(int streak)
    {
        double seconds = Math.Min(Math.Pow(2, Math.Clamp(streak - 1, 0, 30)), MaxFailureTtl.TotalSeconds);
        return (uint)Math.Max(1, seconds);
    }
}
