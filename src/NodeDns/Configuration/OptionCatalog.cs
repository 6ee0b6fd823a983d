namespace NodeDns.Daemon.Configuration;

/// <summary>One setting, reachable as a command-line option, an environment variable and a JSON config key.</summary>
public sealed record OptionSpec(string Name, string JsonKey, string Help, bool Repeatable = false, bool IsSwitch = false)
{
    public string Flag => "--" + Name;
    public string EnvironmentVariable => "NODEDNS_" + Name.Replace('-', '_').ToUpperInvariant();
}

/// <summary>Every option of <c>nodedns serve</c>. Names are part of the CLI contract: add, never rename.</summary>
public static class OptionCatalog
{
    public static readonly OptionSpec Config = new("config", "config", "JSON config file");
    public static readonly OptionSpec Listen = new("listen", "listen", "IP:PORT to serve DNS on, UDP and TCP (repeatable; default 127.0.0.1:5353)", Repeatable: true);
    public static readonly OptionSpec Upstream = new("upstream", "upstream",
        "[ZONE=]IP[:PORT][/tcp|/udp] to forward to (repeatable; default: nameservers of /etc/resolv.conf for '.')", Repeatable: true);
    public static readonly OptionSpec Metrics = new("metrics", "metrics", "IP:PORT for /metrics, /health and /ready, or 'off' (default 127.0.0.1:9253)");
    public static readonly OptionSpec CacheSize = new("cache-size", "cacheSize", "maximum positive entries and, separately, negative entries (default 10000)");
    public static readonly OptionSpec Policy = new("policy", "policy", "upstream choice: random, round_robin or sequential (default random)");
    public static readonly OptionSpec MinTtl = new("min-ttl", "minTtl", "lower bound on cached TTLs, seconds (default 0)");
    public static readonly OptionSpec MaxTtl = new("max-ttl", "maxTtl", "upper bound on positive TTLs, seconds (default 3600)");
    public static readonly OptionSpec NegativeMaxTtl = new("negative-max-ttl", "negativeMaxTtl", "upper bound on negative TTLs, seconds (default 1800)");
    public static readonly OptionSpec ZoneTtl = new("zone-ttl", "zoneTtl",
        "ZONE=MIN:MAX[:NEGATIVE_MAX] TTL bounds in seconds for one zone and its subzones (repeatable)", Repeatable: true);
    public static readonly OptionSpec UdpSockets = new("udp-sockets", "udpSockets", "SO_REUSEPORT sockets (one thread each) per UDP address (default: CPU count)");
    public static readonly OptionSpec LogFormat = new("log-format", "logFormat", "text or json (default text)");
    public static readonly OptionSpec LogLevel = new("log-level", "logLevel", "trace, debug, information, warning, error (default information)");

    public static readonly IReadOnlyList<OptionSpec> All =
        [Config, Listen, Upstream, Metrics, CacheSize, Policy, MinTtl, MaxTtl, NegativeMaxTtl, ZoneTtl, UdpSockets, LogFormat, LogLevel];
}
