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
    /// <param name="previous">
    /// The router this one replaces (a reload): an upstream configured in both, for the same zone, keeps its health
    /// record; those it had and this one has not are retired, which stops their probes.
    /// </param>
    public static ZoneRouter Build(DaemonSettings settings, ZoneRouter? previous = null)
    {
        Dictionary<string, Upstream> kept = previous is null ? [] : previous.Routes
            .SelectMany(r => r.Pool.Upstreams.Select(u => (Key: UpstreamKey(r.Zone, u.Server), Upstream: u)))
            .DistinctBy(p => p.Key)
            .ToDictionary(p => p.Key, p => p.Upstream);
        Dictionary<string, UpstreamPool> pools = settings.Upstreams
            .GroupBy(u => Key(u.Zone))
            .ToDictionary(g => g.Key, g => new UpstreamPool([.. g.Select(u => Reuse(kept, u, settings.MaxFails))], settings.Policy));
        IEnumerable<byte[]> zones = settings.Upstreams.Select(u => u.Zone).Concat(settings.ZoneTtls.Select(z => z.Zone))
            .DistinctBy(Key);
        var router = new ZoneRouter(zones.Select(zone => new ZoneRoute(zone, Closest(zone, pools), TtlFor(zone, settings))));

        HashSet<Upstream> used = [.. router.Routes.SelectMany(r => r.Pool.Upstreams)];
        foreach (Upstream dropped in kept.Values.Where(u => !used.Contains(u)))
        {
            dropped.Retire();
        }

        return router;
    }

    private static Upstream Reuse(Dictionary<string, Upstream> kept, UpstreamSetting setting, int maxFails)
    {
        if (kept.TryGetValue(UpstreamKey(setting.Zone, setting.Server), out Upstream? upstream))
        {
            upstream.MaxFails = maxFails;
            return upstream;
        }

        return new Upstream(setting.Server, maxFails);
    }

    private static string UpstreamKey(byte[] zone, UpstreamServer server) => $"{Key(zone)}/{server.EndPoint}/{server.Transport}";

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
