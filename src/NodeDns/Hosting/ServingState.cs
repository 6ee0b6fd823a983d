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

    public void Apply(DaemonSettings settings)
    {
        _router = RouteTable.Build(settings);
        _settings = settings;
    }
}
