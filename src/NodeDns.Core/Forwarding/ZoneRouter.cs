using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>Where queries under one zone go, and how long their answers are cached.</summary>
public sealed record ZoneRoute(byte[] Zone, UpstreamPool Pool, TtlPolicy Ttl)
{
    public string ZoneText { get; } = DnsName.ToText(Zone);

    /// <summary>The zone's stable number, which cached answers and metrics use.</summary>
    public ZoneId Id { get; } = ZoneId.For(DnsName.ToText(Zone));
}

/// <summary>Picks the route whose zone is the longest suffix of the question name.</summary>
public sealed class ZoneRouter
{
    private readonly ZoneRoute[] _routes;

    public ZoneRouter(IEnumerable<ZoneRoute> routes)
    {
        _routes = [.. routes.OrderByDescending(r => r.Zone.Length)];
        if (!_routes.Any(r => r.Zone.Length == 1))
        {
            throw new ArgumentException("a route for the root zone '.' is required", nameof(routes));
        }
    }

    public IReadOnlyList<ZoneRoute> Routes => _routes;

    /// <param name="name">An uncompressed wire name (any case).</param>
    public ZoneRoute Route(ReadOnlySpan<byte> name)
    {
        foreach (ZoneRoute route in _routes)
        {
            if (DnsName.IsSubdomainOf(name, route.Zone))
            {
                return route;
            }
        }

        return _routes[^1];
    }
}
