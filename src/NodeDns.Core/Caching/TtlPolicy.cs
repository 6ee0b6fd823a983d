namespace NodeDns.Caching;

/// <summary>
/// Bounds on how long answers are cached (seconds). Defaults respect authoritative TTLs: [0, 3600] for positive
/// answers and [0, 1800] for negative ones (CoreDNS defaults to a 5 s minimum; set <see cref="MinTtl"/> for that).
/// </summary>
public sealed record TtlPolicy
{
    public static readonly TtlPolicy Default = new();

    /// <summary>The largest TTL bound that can be configured: 7 days (RFC 8767 §4).</summary>
    public const uint MaxBound = 604_800;

    public uint MinTtl { get; init; }
    public uint MaxTtl { get; init; } = 3600;
    public uint NegativeMinTtl { get; init; }
    public uint NegativeMaxTtl { get; init; } = 1800;
}
