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
    public static readonly OptionSpec NegativeCacheSize = new("negative-cache-size", "negativeCacheSize", "maximum negative entries (default: --cache-size)");
    public static readonly OptionSpec CacheMemory = new("cache-memory", "cacheMemory", "byte budget of the whole cache, e.g. 64Mi (default 64Mi)");
    public static readonly OptionSpec ServeStale = new("serve-stale", "serveStale",
        "how long expired answers may be served when upstreams fail, e.g. 1h; 'off' disables (default 1h, at most 1d)");
    public static readonly OptionSpec ServeStalePreferPositive = new("serve-stale-prefer-positive", "serveStalePreferPositive",
        "serve a stale positive answer rather than a fresh NXDOMAIN/NODATA (default false)", IsSwitch: true);
    public static readonly OptionSpec FailureMaxTtl = new("failure-max-ttl", "failureMaxTtl",
        "longest time an upstream failure is cached; back-off from 1s (default 30s, at most 5m)");
    public static readonly OptionSpec PrefetchHits = new("prefetch-hits", "prefetchHits", "hits within --prefetch-window that make an entry popular; 0 disables prefetch (default 2)");
    public static readonly OptionSpec PrefetchWindow = new("prefetch-window", "prefetchWindow", "window for counting prefetch hits (default 1m)");
    public static readonly OptionSpec PrefetchPercent = new("prefetch-percent", "prefetchPercent", "refresh a popular entry when this percent of its TTL remains, 10-90 (default 10)");
    public static readonly OptionSpec MaxFails = new("max-fails", "maxFails", "consecutive failed tries that mark an upstream down; 0 never (default 2)");
    public static readonly OptionSpec HealthCheck = new("health-check", "healthCheck", "probe interval for an upstream marked down (default 500ms)");
    public static readonly OptionSpec MaxInFlight = new("max-inflight", "maxInflight", "distinct questions forwarded at once (default 10000)");
    public static readonly OptionSpec MaxWaiters = new("max-waiters", "maxWaiters", "clients waiting for one forwarded question (default 1000)");
    public static readonly OptionSpec Lameduck = new("lameduck", "lameduck", "after SIGTERM, keep answering DNS this long while /ready says 503 (default 5s)");
    public static readonly OptionSpec ReadyUpstream = new("ready-upstream", "readyUpstream",
        "/ready also requires a healthy upstream for the root zone (default false)", IsSwitch: true);
    public static readonly OptionSpec LocalIp = new("local-ip", "localIp",
        "node-local IP(s) to serve on (port --dns-port) and, with --setup-*, to put on the interface and in the firewall rules");
    public static readonly OptionSpec DnsPort = new("dns-port", "dnsPort", "DNS port for --local-ip addresses and their firewall rules (default 53)");
    public static readonly OptionSpec SetupInterface = new("setup-interface", "setupInterface", "create and maintain the interface holding --local-ip (default false)", IsSwitch: true);
    public static readonly OptionSpec SetupIptables = new("setup-iptables", "setupIptables",
        "install and maintain the conntrack-bypass rules for --local-ip with the --firewall backend (default false)", IsSwitch: true);
    public static readonly OptionSpec Firewall = new("firewall", "firewall", "iptables, nftables or none (default iptables)");
    public static readonly OptionSpec Interface = new("interface", "interface", "name of the interface for --local-ip (default nodelocaldns)");
    public static readonly OptionSpec HealthPort = new("health-port", "healthPort", "port of the liveness probe, for its NOTRACK rules (default 8080)");
    public static readonly OptionSpec FailOpen = new("fail-open", "failOpen",
        "PREROUTING NOTRACK rules match only while NodeDns has its socket, so a crashed NodeDns does not black-hole intercepted traffic",
        IsSwitch: true);
    public static readonly OptionSpec SkipTeardown = new("skip-teardown", "skipTeardown", "leave interface and rules in place on exit (default false)", IsSwitch: true);
    public static readonly OptionSpec SyncInterval = new("sync-interval", "syncInterval", "how often interface and rules are checked and repaired (default 60s)");
    public static readonly OptionSpec HttpListen = new("http-listen", "httpListen",
        "further IP:PORT addresses serving /metrics, /health and /ready (repeatable)", Repeatable: true);
    public static readonly OptionSpec PidFile = new("pidfile", "pidfile", "write the process ID to this file once the listeners are bound");
    public static readonly OptionSpec Snapshot = new("snapshot", "snapshot",
        "cache snapshot file: loaded at start (warm restart), written atomically on graceful exit");
    public static readonly OptionSpec HandoffSocket = new("handoff-socket", "handoffSocket",
        "Unix socket for zero-downtime replacement: a new instance takes the sockets and cache of the one listening here");
    public static readonly OptionSpec LockFile = new("lock-file", "lockFile",
        "refuse to start while another instance holds this lock, unless taking over through --handoff-socket");
    public static readonly OptionSpec Allow = new("allow", "allow",
        "CIDR of clients that may query (repeatable; default loopback, link-local, RFC 1918, fc00::/7; 'any' for all); others get REFUSED",
        Repeatable: true);
    public static readonly OptionSpec ClientMissRate = new("client-miss-rate", "clientMissRate",
        "cache misses per second one client may cause, token bucket; 0 turns it off; loopback is never limited (default 500)");
    public static readonly OptionSpec ClientMissBurst = new("client-miss-burst", "clientMissBurst", "token bucket size for --client-miss-rate (default 1000)");
    public static readonly OptionSpec TcpPerClient = new("tcp-per-client", "tcpPerClient", "open TCP connections one client address may hold (default 64)");
    public static readonly OptionSpec TcpIdleTimeout = new("tcp-idle-timeout", "tcpIdleTimeout", "close a client TCP connection idle this long (default 10s)");
    public static readonly OptionSpec ZoneTtl = new("zone-ttl", "zoneTtl",
        "ZONE=MIN:MAX[:NEGATIVE_MAX] TTL bounds in seconds for one zone and its subzones (repeatable)", Repeatable: true);
    public static readonly OptionSpec UdpSockets = new("udp-sockets", "udpSockets", "SO_REUSEPORT sockets (one thread each) per UDP address (default: CPU count)");
    public static readonly OptionSpec LogFormat = new("log-format", "logFormat", "text or json (default text)");
    public static readonly OptionSpec LogLevel = new("log-level", "logLevel", "trace, debug, information, warning, error (default information)");

    public static readonly IReadOnlyList<OptionSpec> All =
        [
            Config, Listen, Upstream, Metrics, CacheSize, NegativeCacheSize, CacheMemory, Policy, MinTtl, MaxTtl, NegativeMaxTtl, ZoneTtl,
            ServeStale, ServeStalePreferPositive, FailureMaxTtl, PrefetchHits, PrefetchWindow, PrefetchPercent, MaxFails, HealthCheck,
            MaxInFlight, MaxWaiters, Lameduck, ReadyUpstream, LocalIp, DnsPort, SetupInterface, SetupIptables, Firewall, Interface, HealthPort,
            FailOpen, SkipTeardown, SyncInterval, HttpListen, PidFile, Snapshot, HandoffSocket, LockFile, Allow, ClientMissRate, ClientMissBurst, TcpPerClient, TcpIdleTimeout, UdpSockets, LogFormat, LogLevel,
        ];
}
