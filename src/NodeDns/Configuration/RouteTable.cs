using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Daemon.Configuration;

/// <summary>Builds the zone router from the upstream and per-zone TTL settings.</summary>
public static class RouteTable
{
    /// <summary>
    /// One route per zone that has upstreams or TTL bounds. A zone with TTL bounds but no upstreams forwards to the
    /// upstreams of its closest enclosing zone; a route's TTL bounds are those of its closest enclosing zone that
    /// has some, else the global ones.
    /// </summary>
    public static ZoneRouter Build(DaemonSettings settings)
    {
        Dictionary<string, UpstreamPool> pools = settings.Upstreams
            .GroupBy(u => Key(u.Zone))
            .ToDictionary(g => g.Key, g => new UpstreamPool([.. g.Select(u => u.Server)], settings.Policy, settings.MaxFails));
        IEnumerable<byte[]> zones = settings.Upstreams.Select(u => u.Zone).Concat(settings.ZoneTtls.Select(z => z.Zone))
            .DistinctBy(Key);
        return new ZoneRouter(zones.Select(zone => new ZoneRoute(zone, Closest(zone, pools), TtlFor(zone, settings))));
    }

    private static UpstreamPool Closest(byte[] zone, Dictionary<string, UpstreamPool> pools)
    {
        for (int position = 0; ; position += 1 + zone[position])
        {
            if (pools.TryGetValue(Key(zone.AsSpan(position)), out UpstreamPool? pool))
            {
                return pool;
            }
        }
    }

    private static TtlPolicy TtlFor(byte[] zone, DaemonSettings settings) =>
        settings.ZoneTtls.Where(z => DnsName.IsSubdomainOf(zone, z.Zone)).MaxBy(z => z.Zone.Length)?.Ttl ?? settings.Ttl;

    private static string Key(ReadOnlySpan<byte> zone) => Convert.ToHexString(zone);

    private static string Key(byte[] zone) => Key(zone.AsSpan());
}
