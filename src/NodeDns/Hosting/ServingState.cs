using NodeDns.Daemon.Configuration;
using NodeDns.Forwarding;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// What a reload may replace while queries run: the settings and the zone router built from them. Readers take
/// the current object reference once per query, so a swap never tears a query.
/// </summary>
public sealed class ServingState(DaemonSettings settings)
{
    private volatile ZoneRouter _router = RouteTable.Build(settings);
    private volatile DaemonSettings _settings = settings;

    public ZoneRouter Router => _router;
    public DaemonSettings Settings => _settings;

    /// <summary>Set from SIGTERM on: /ready answers 503 while DNS is still answered (lameduck).</summary>
    public volatile bool Draining;

    /// <summary>
    /// Set when a successor took over our sockets and serves on them: on exit we stop reading without a lameduck,
    /// and leave the node network, the snapshot file and the sockets themselves to the successor.
    /// </summary>
    public volatile bool SuccessorServing;

    /// <summary>Replaces settings and router; upstreams that stay keep their health, dropped ones stop being probed.</summary>
    public void Apply(DaemonSettings settings)
    {
        _router = RouteTable.Build(settings, _router);
        _settings = settings;
    }
}
