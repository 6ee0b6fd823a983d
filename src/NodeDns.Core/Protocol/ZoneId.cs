using System.Collections.Concurrent;

namespace NodeDns.Protocol;

/// <summary>
/// A small, stable number for a configured zone, so a cached answer can say which zone it came through (for per-zone
/// metrics) without holding the route itself: the cache stays independent of forwarding, and an answer cached before
/// a reload keeps its zone's number after it. <see cref="Root"/> is "." (and queries that never reached a zone).
/// </summary>
public readonly record struct ZoneId(ushort Value)
{
    private static readonly ConcurrentDictionary<string, ZoneId> ByName = new(StringComparer.Ordinal) { ["."] = default };
    private static readonly ConcurrentDictionary<ushort, string> Names = new() { [0] = "." };
    private static int _next;

    public static ZoneId Root => default;

    /// <summary>The number of the zone <paramref name="zoneText"/> ("cluster.local."), the same for the life of the process.</summary>
    public static ZoneId For(string zoneText) => ByName.GetOrAdd(zoneText.ToLowerInvariant(), static name =>
    {
        int next = Interlocked.Increment(ref _next);
        if (next > ushort.MaxValue)
        {
            throw new InvalidOperationException("more than 65,535 zones configured over the life of the process");
        }

        var id = new ZoneId((ushort)next);
        Names[id.Value] = name;
        return id;
    });

    /// <summary>The zone's name as it was registered ("." for <see cref="Root"/>).</summary>
    public string Name => Names.TryGetValue(Value, out string? name) ? name : ".";

    public override string ToString() => Name;
}
