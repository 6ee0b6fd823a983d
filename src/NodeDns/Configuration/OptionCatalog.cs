using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using NodeDns.Forwarding;
using NodeDns.Node.Network;
using NodeDns.Serving;
using static NodeDns.Daemon.Configuration.ReloadBehaviour;
using static NodeDns.Daemon.Configuration.ValueParsers;

namespace NodeDns.Daemon.Configuration;

/// <summary>
/// Every option of <c>nodedns serve</c>, each declared once (see <see cref="OptionSpec"/>). Defaults are the values
/// of <see cref="DaemonSettings.Defaults"/>, i.e. of the settings records themselves. Names are part of the CLI
/// contract: add, never rename. Options are applied in the order of <see cref="All"/>.
/// </summary>
public static class OptionCatalog
{
    public static readonly OptionSpec Config = new()
    {
        Name = "config", JsonKey = "config", Help = "JSON config file", Reload = NeedsRestart,
        Show = s => s.ConfigFile ?? "", DefaultDescription = "none",
    };

    public static readonly OptionSpec Listen = Endpoints("listen", "listen", "IP:PORT to serve DNS on, UDP and TCP (repeatable)",
        s => s.Listen, (s, v) => s with { Listen = v });

    public static readonly OptionSpec Upstream = new()
    {
        Name = "upstream", JsonKey = "upstream", Repeatable = true,
        Help = "[ZONE=]IP[:PORT][/tcp|/udp] (or [ZONE=]/path/resolv.conf) to forward to (repeatable)",
        DefaultDescription = "the nameservers of /etc/resolv.conf, for '.'",
        Show = s => string.Join(',', s.Upstreams.Select(FormatUpstream)),
        Apply = (s, v) => s with { Upstreams = [.. v.Values.SelectMany(text => ParseUpstream(text, v.Source))] },
    };

    public static readonly OptionSpec Metrics = new()
    {
        Name = "metrics", JsonKey = "metrics", Help = "IP:PORT for /metrics, /health and /ready, or 'off'", Reload = NeedsRestart,
        Show = s => s.Metrics?.ToString() ?? "off",
        Apply = (s, v) => s with { Metrics = v.Last is "off" or "none" or "" ? null : ParseEndPoint(v.Last, null, v.Source) },
    };

    public static readonly OptionSpec CacheSize = Number("cache-size", "cacheSize", "maximum positive entries and, separately, negative entries",
        1, 10_000_000, s => s.Cache.PositiveEntries,
        (s, n) => s with { Cache = s.Cache with { PositiveEntries = n, NegativeEntries = n, FailureEntries = n } });

    public static readonly OptionSpec NegativeCacheSize = Number("negative-cache-size", "negativeCacheSize", "maximum negative entries",
        1, 10_000_000, s => s.Cache.NegativeEntries, (s, n) => s with { Cache = s.Cache with { NegativeEntries = n } }, defaultDescription: "--cache-size");

    public static readonly OptionSpec CacheMemory = new()
    {
        Name = "cache-memory", JsonKey = "cacheMemory", Help = "byte budget of the whole cache, e.g. 64Mi",
        Show = s => FormatByteSize(s.Cache.MaxBytes),
        Apply = (s, v) => s with { Cache = s.Cache with { MaxBytes = ByteSize(v) } },
    };

    public static readonly OptionSpec Policy = OneOf("policy", "policy", "upstream choice: random, round_robin or sequential",
        new Dictionary<string, UpstreamPolicy> { ["random"] = UpstreamPolicy.Random, ["round_robin"] = UpstreamPolicy.RoundRobin, ["sequential"] = UpstreamPolicy.Sequential },
        s => s.Policy, (s, p) => s with { Policy = p });

    public static readonly OptionSpec MinTtl = Number("min-ttl", "minTtl", "lower bound on cached TTLs, seconds", 0, (int)Caching.TtlPolicy.MaxBound,
        s => (int)s.Ttl.MinTtl, (s, n) => s with { Ttl = s.Ttl with { MinTtl = (uint)n } });

    public static readonly OptionSpec MaxTtl = Number("max-ttl", "maxTtl", "upper bound on positive TTLs, seconds", 0, (int)Caching.TtlPolicy.MaxBound,
        s => (int)s.Ttl.MaxTtl, (s, n) => s with { Ttl = s.Ttl with { MaxTtl = (uint)n } });

    public static readonly OptionSpec NegativeMaxTtl = Number("negative-max-ttl", "negativeMaxTtl", "upper bound on negative TTLs, seconds",
        0, (int)Caching.TtlPolicy.MaxBound, s => (int)s.Ttl.NegativeMaxTtl, (s, n) => s with { Ttl = s.Ttl with { NegativeMaxTtl = (uint)n } });

    public static readonly OptionSpec ZoneTtl = new()
    {
        Name = "zone-ttl", JsonKey = "zoneTtl", Repeatable = true,
        Help = "ZONE=MIN:MAX[:NEGATIVE_MAX] TTL bounds in seconds for one zone and its subzones (repeatable)", DefaultDescription = "none",
        Show = s => string.Join(',', s.ZoneTtls.Select(FormatZoneTtl)),
        Apply = (s, v) => s with { ZoneTtls = [.. v.Values.Select(text => ParseZoneTtl(text, v.Source))] },
    };

    public static readonly OptionSpec ServeStale = Time("serve-stale", "serveStale",
        "how long expired answers may be served when upstreams fail, e.g. 1h; 'off' disables (at most 1d)",
        TimeSpan.Zero, Caching.CacheOptions.MaxStaleWindow, s => s.Cache.StaleWindow, (s, t) => s with { Cache = s.Cache with { StaleWindow = t } });

    public static readonly OptionSpec ServeStalePreferPositive = Switch("serve-stale-prefer-positive", "serveStalePreferPositive",
        "serve a stale positive answer rather than a fresh NXDOMAIN/NODATA",
        s => s.Pipeline.PreferPositiveStale, (s, b) => s with { Pipeline = s.Pipeline with { PreferPositiveStale = b } });

    public static readonly OptionSpec FailureMaxTtl = Time("failure-max-ttl", "failureMaxTtl",
        "longest time an upstream failure is cached; back-off from 1s (at most 5m)", TimeSpan.FromSeconds(1), Caching.CacheOptions.HardMaxFailureTtl,
        s => s.Cache.MaxFailureTtl, (s, t) => s with { Cache = s.Cache with { MaxFailureTtl = t } });

    public static readonly OptionSpec PrefetchHits = Number("prefetch-hits", "prefetchHits",
        "hits within --prefetch-window that make an entry popular; 0 disables prefetch", 0, 1_000_000,
        s => s.Pipeline.PrefetchHits, (s, n) => s with { Pipeline = s.Pipeline with { PrefetchHits = n } });

    public static readonly OptionSpec PrefetchWindow = Time("prefetch-window", "prefetchWindow", "window for counting prefetch hits",
        TimeSpan.FromSeconds(1), TimeSpan.FromDays(1), s => s.Pipeline.PrefetchWindow, (s, t) => s with { Pipeline = s.Pipeline with { PrefetchWindow = t } });

    public static readonly OptionSpec PrefetchPercent = Number("prefetch-percent", "prefetchPercent",
        "refresh a popular entry when this percent of its TTL remains, 10-90", 10, 90,
        s => s.Pipeline.PrefetchPercent, (s, n) => s with { Pipeline = s.Pipeline with { PrefetchPercent = n } });

    public static readonly OptionSpec MaxFails = Number("max-fails", "maxFails", "consecutive failed tries that mark an upstream down; 0 never",
        0, 1000, s => s.MaxFails, (s, n) => s with { MaxFails = n });

    public static readonly OptionSpec HealthCheck = Time("health-check", "healthCheck", "probe interval for an upstream marked down",
        TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10),
        s => s.Forwarder.HealthCheckInterval, (s, t) => s with { Forwarder = s.Forwarder with { HealthCheckInterval = t } });

    public static readonly OptionSpec MaxInFlight = Number("max-inflight", "maxInflight", "distinct questions forwarded at once", 1, 1_000_000,
        s => s.Pipeline.MaxInFlight, (s, n) => s with { Pipeline = s.Pipeline with { MaxInFlight = n } });

    public static readonly OptionSpec MaxWaiters = Number("max-waiters", "maxWaiters", "clients waiting for one forwarded question", 1, 1_000_000,
        s => s.Pipeline.MaxWaitersPerQuestion, (s, n) => s with { Pipeline = s.Pipeline with { MaxWaitersPerQuestion = n } });

    public static readonly OptionSpec Lameduck = Time("lameduck", "lameduck", "after SIGTERM, keep answering DNS this long while /ready says 503",
        TimeSpan.Zero, DaemonSettings.MaxLameduck, s => s.Lameduck, (s, t) => s with { Lameduck = t });

    public static readonly OptionSpec ReadyUpstream = Switch("ready-upstream", "readyUpstream",
        "/ready also requires a healthy upstream for the root zone", s => s.ReadyRequiresUpstream, (s, b) => s with { ReadyRequiresUpstream = b });

    public static readonly OptionSpec LocalIp = new()
    {
        Name = "local-ip", JsonKey = "localIp", Reload = NeedsRestart, DefaultDescription = "none",
        Help = "node-local IP(s) to serve on (port --dns-port) and, with --setup-*, to put on the interface and in the firewall rules",
        Show = s => string.Join(',', Node(s).LocalIps),
        Apply = (s, v) => s with { NodeNetwork = Node(s) with { LocalIps = ParseLocalIps(string.Join(',', v.Values), v.Source) } },
    };

    public static readonly OptionSpec DnsPort = Number("dns-port", "dnsPort", "DNS port for --local-ip addresses and their firewall rules", 1, 65535,
        s => Node(s).DnsPort, (s, n) => s with { NodeNetwork = Node(s) with { DnsPort = n } }, NeedsRestart);

    public static readonly OptionSpec SetupInterface = Switch("setup-interface", "setupInterface", "create and maintain the interface holding --local-ip",
        s => s.SetupInterface, (s, b) => s with { SetupInterface = b }, NeedsRestart);

    public static readonly OptionSpec SetupIptables = Switch("setup-iptables", "setupIptables",
        "install and maintain the conntrack-bypass rules for --local-ip with the --firewall backend",
        s => s.SetupFirewall, (s, b) => s with { SetupFirewall = b }, NeedsRestart);

    public static readonly OptionSpec Firewall = OneOf("firewall", "firewall", "iptables, nftables or none", Firewalls,
        s => Node(s).Firewall, (s, f) => s with { NodeNetwork = Node(s) with { Firewall = f } }, NeedsRestart);

    public static readonly OptionSpec Interface = new()
    {
        Name = "interface", JsonKey = "interface", Help = "name of the interface for --local-ip", Reload = NeedsRestart,
        Show = s => Node(s).InterfaceName,
        Apply = (s, v) => s with { NodeNetwork = Node(s) with { InterfaceName = ParseInterfaceName(v.Last, v.Source) } },
    };

    public static readonly OptionSpec HealthPort = Number("health-port", "healthPort", "port of the liveness probe, for its NOTRACK rules", 1, 65535,
        s => Node(s).HealthPort, (s, n) => s with { NodeNetwork = Node(s) with { HealthPort = n } }, NeedsRestart);

    public static readonly OptionSpec FailOpen = Switch("fail-open", "failOpen",
        "PREROUTING NOTRACK rules match only while NodeDns has its socket, so a crashed NodeDns does not black-hole intercepted traffic",
        s => Node(s).FailOpen, (s, b) => s with { NodeNetwork = Node(s) with { FailOpen = b } }, NeedsRestart);

    public static readonly OptionSpec SkipTeardown = Switch("skip-teardown", "skipTeardown", "leave interface and rules in place on exit",
        s => s.SkipTeardown, (s, b) => s with { SkipTeardown = b });

    public static readonly OptionSpec SyncInterval = Time("sync-interval", "syncInterval", "how often interface and rules are checked and repaired",
        TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), s => s.SyncInterval, (s, t) => s with { SyncInterval = t }, NeedsRestart);

    public static readonly OptionSpec HttpListen = Endpoints("http-listen", "httpListen", "further IP:PORT addresses serving /metrics, /health and /ready (repeatable)",
        s => s.ExtraHttp, (s, v) => s with { ExtraHttp = [.. v.Distinct()] }, defaultDescription: "none");

    public static readonly OptionSpec PidFile = Path("pidfile", "pidfile", "write the process ID to this file once the listeners are bound",
        s => s.PidFile, (s, p) => s with { PidFile = p });

    public static readonly OptionSpec Snapshot = Path("snapshot", "snapshot", "cache snapshot file: loaded at start (warm restart), written atomically on graceful exit",
        s => s.SnapshotFile, (s, p) => s with { SnapshotFile = p });

    public static readonly OptionSpec HandoffSocket = Path("handoff-socket", "handoffSocket",
        "Unix socket for zero-downtime replacement: a new instance takes the sockets and cache of the one listening here",
        s => s.HandoffSocket, (s, p) => s with { HandoffSocket = p });

    public static readonly OptionSpec LockFile = Path("lock-file", "lockFile",
        "refuse to start while another instance holds this lock, unless taking over through --handoff-socket",
        s => s.LockFile, (s, p) => s with { LockFile = p });

    public static readonly OptionSpec Allow = new()
    {
        Name = "allow", JsonKey = "allow", Repeatable = true,
        Help = "CIDR of clients that may query (repeatable; 'any' for all); others get REFUSED",
        DefaultDescription = "loopback, link-local, RFC 1918, 100.64.0.0/10, fc00::/7",
        Show = s => string.Join(',', s.Clients.Allowed),
        Apply = (s, v) => s with
        {
            Clients = s.Clients with
            {
                Allowed = [.. v.Values.SelectMany(text => text == "any" ? ["0.0.0.0/0", "::/0"] : new[] { text })
                    .Select(text => AddressPrefix.TryParse(text, out AddressPrefix prefix) ? prefix : throw Bad(v.Source, text, "expected a CIDR such as 10.0.0.0/8, or 'any'"))],
            },
        },
    };

    public static readonly OptionSpec ClientMissRate = Number("client-miss-rate", "clientMissRate",
        "cache misses per second one client may cause, token bucket; 0 turns it off; loopback is never limited", 0, 10_000_000,
        s => (int)s.Clients.MissesPerSecond, (s, n) => s with { Clients = s.Clients with { MissesPerSecond = n } });

    public static readonly OptionSpec ClientMissBurst = Number("client-miss-burst", "clientMissBurst", "token bucket size for --client-miss-rate", 1, 10_000_000,
        s => (int)s.Clients.MissBurst, (s, n) => s with { Clients = s.Clients with { MissBurst = n } });

    public static readonly OptionSpec TcpPerClient = Number("tcp-per-client", "tcpPerClient", "open TCP connections one client address may hold", 1, 100_000,
        s => s.Tcp.MaxConnectionsPerClient, (s, n) => s with { Tcp = s.Tcp with { MaxConnectionsPerClient = n } });

    public static readonly OptionSpec TcpIdleTimeout = Time("tcp-idle-timeout", "tcpIdleTimeout", "close a client TCP connection idle this long",
        TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10), s => s.Tcp.IdleTimeout, (s, t) => s with { Tcp = s.Tcp with { IdleTimeout = t } });

    public static readonly OptionSpec UdpSockets = Number("udp-sockets", "udpSockets", "SO_REUSEPORT sockets (one thread each) per UDP address", 1, 64,
        s => s.UdpSockets, (s, n) => s with { UdpSockets = n }, NeedsRestart, "CPU count");

    public static readonly OptionSpec UpstreamIoUring = Switch("upstream-io-uring", "upstreamIoUring",
        "run the UDP listener threads' upstream queries on io_uring where the kernel allows it (Linux 6.11+); off: epoll",
        s => s.UpstreamIoUring, (s, b) => s with { UpstreamIoUring = b }, NeedsRestart);

    public static readonly OptionSpec LogFormat = OneOf("log-format", "logFormat", "text or json",
        new Dictionary<string, LogFormat> { ["text"] = Configuration.LogFormat.Text, ["json"] = Configuration.LogFormat.Json },
        s => s.LogFormat, (s, f) => s with { LogFormat = f }, NeedsRestart);

    public static readonly OptionSpec LogLevel = OneOf("log-level", "logLevel", "trace, debug, information, warning, error",
        new Dictionary<string, LogLevel>
        {
            ["information"] = Microsoft.Extensions.Logging.LogLevel.Information,
            ["info"] = Microsoft.Extensions.Logging.LogLevel.Information,
            ["trace"] = Microsoft.Extensions.Logging.LogLevel.Trace,
            ["debug"] = Microsoft.Extensions.Logging.LogLevel.Debug,
            ["warning"] = Microsoft.Extensions.Logging.LogLevel.Warning,
            ["error"] = Microsoft.Extensions.Logging.LogLevel.Error,
        },
        s => s.LogLevel, (s, l) => s with { LogLevel = l });

    public static readonly OptionSpec PodWatch = AutoOnOff("pod-watch", "podWatch",
        "watch the pods of this node through the Kubernetes API: on, off or auto",
        "auto: on in a cluster (KUBERNETES_SERVICE_HOST set) or with --kubeconfig, else off", s => s.PodWatch, (s, on) => s with { PodWatch = on });

    public static readonly OptionSpec Kubeconfig = Path("kubeconfig", "kubeconfig", "kubeconfig file for the pod watch, instead of the in-cluster service account",
        s => s.Kubeconfig, (s, p) => s with { Kubeconfig = p });

    public static readonly OptionSpec NodeName = new()
    {
        Name = "node-name", JsonKey = "nodeName", Reload = NeedsRestart, Help = "the node whose pods are watched",
        DefaultDescription = "env NODE_NAME (the downward API in the DaemonSet), else the host name",
        Show = s => s.NodeName ?? "",
        Apply = (s, v) => s with
        {
            NodeName = v.Last.Length is > 0 and <= 253 && v.Last.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')
                ? v.Last
                : throw Bad(v.Source, v.Last, "a node name is a DNS subdomain: lower-case letters, digits, '-' and '.'"),
        },
    };

    public static readonly OptionSpec ClusterDomain = new()
    {
        Name = "cluster-domain", JsonKey = "clusterDomain", Reload = NeedsRestart,
        Help = "the cluster's DNS domain, under which kubelet puts pods' search domains",
        Show = s => s.ClusterDomain,
        Apply = (s, v) => s with
        {
            ClusterDomain = Protocol.DnsName.TryParseText(v.Last, out byte[] wire) && wire.Length > 1
                ? Protocol.DnsName.ToText(wire).TrimEnd('.')
                : throw Bad(v.Source, v.Last, "expected a domain name such as cluster.local"),
        },
    };

    public static readonly OptionSpec Autopath = AutoOnOff("autopath", "autopath",
        "answer a pod's whole search list at once (node-local autopath): on, off or auto",
        "auto: on when the pod watch is on", s => s.Autopath, (s, on) => s with { Autopath = on });

    public static readonly OptionSpec HostResolvConf = new()
    {
        Name = "host-resolv-conf", JsonKey = "hostResolvConf", Reload = NeedsRestart,
        Help = "the node's resolv.conf, whose search domains kubelet appends to pods' search lists",
        Show = s => s.HostResolvConf,
        Apply = (s, v) => s with { HostResolvConf = v.Last.Length > 0 ? v.Last : throw Bad(v.Source, v.Last, "expected a path") },
    };

    public static readonly OptionSpec TopSample = Number("top-sample", "topSample",
        "the top view (/debug/top, nodedns top) counts one query in N; 1 counts every query", 1, 1024, s => s.TopSample,
        (s, n) => s with { TopSample = n }, NeedsRestart);

    public static readonly OptionSpec Dnstap = new()
    {
        Name = "dnstap", JsonKey = "dnstap", Reload = NeedsRestart, DefaultDescription = "off",
        Help = "write dnstap (Frame Streams) to a reader at unix:PATH or tcp:IP:PORT; 'off' disables",
        Show = s => s.Dnstap.Target?.ToString() ?? "off",
        Apply = (s, v) => s with
        {
            Dnstap = s.Dnstap with
            {
                Target = v.Last is "off" or "" ? null
                    : NodeDns.Dnstap.DnstapTarget.TryParse(v.Last, out NodeDns.Dnstap.DnstapTarget? target, out string error) ? target
                    : throw Bad(v.Source, v.Last, error),
            },
        },
    };

    public static readonly OptionSpec DnstapIdentity = new()
    {
        Name = "dnstap-identity", JsonKey = "dnstapIdentity", Reload = NeedsRestart, DefaultDescription = "the host name",
        Help = "the identity in every dnstap message (the node, for the reader)",
        Show = s => s.Dnstap.Identity ?? "",
        Apply = (s, v) => s with { Dnstap = s.Dnstap with { Identity = v.Last.Length <= 255 ? v.Last : throw Bad(v.Source, v.Last, "at most 255 characters") } },
    };

    public static readonly OptionSpec DnstapVersion = new()
    {
        Name = "dnstap-version", JsonKey = "dnstapVersion", Reload = NeedsRestart, DefaultDescription = "nodedns and its version",
        Help = "the version in every dnstap message",
        Show = s => s.Dnstap.Version ?? "",
        Apply = (s, v) => s with { Dnstap = s.Dnstap with { Version = v.Last.Length <= 255 ? v.Last : throw Bad(v.Source, v.Last, "at most 255 characters") } },
    };

    public static readonly OptionSpec DnstapMessages = new()
    {
        Name = "dnstap-messages", JsonKey = "dnstapMessages", Reload = NeedsRestart,
        Help = "which dnstap messages to write: client-query, client-response, forwarder-query, forwarder-response (comma-separated) or all",
        Show = s => NodeDns.Dnstap.DnstapMessageTypeNames.Format(s.Dnstap.Messages),
        Apply = (s, v) => s with { Dnstap = s.Dnstap with { Messages = DnstapMessageTypes(v) } },
    };

    public static readonly OptionSpec DnstapQueue = Number("dnstap-queue", "dnstapQueue",
        "dnstap messages held for the reader; more are dropped (nodedns_dnstap_dropped_total)", 64, 1 << 20, s => s.Dnstap.QueueLength,
        (s, n) => s with { Dnstap = s.Dnstap with { QueueLength = n } }, NeedsRestart);

    public static readonly IReadOnlyList<OptionSpec> All =
        [
            Config, Listen, Upstream, Metrics, CacheSize, NegativeCacheSize, CacheMemory, Policy, MinTtl, MaxTtl, NegativeMaxTtl, ZoneTtl,
            ServeStale, ServeStalePreferPositive, FailureMaxTtl, PrefetchHits, PrefetchWindow, PrefetchPercent, MaxFails, HealthCheck,
            MaxInFlight, MaxWaiters, Lameduck, ReadyUpstream, LocalIp, DnsPort, SetupInterface, SetupIptables, Firewall, Interface, HealthPort,
            FailOpen, SkipTeardown, SyncInterval, HttpListen, PidFile, Snapshot, HandoffSocket, LockFile, Allow, ClientMissRate, ClientMissBurst,
            TcpPerClient, TcpIdleTimeout, UdpSockets, UpstreamIoUring, LogFormat, LogLevel, PodWatch, Kubeconfig, NodeName, ClusterDomain, HostResolvConf, Autopath, TopSample,
            Dnstap, DnstapIdentity, DnstapVersion, DnstapMessages, DnstapQueue,
        ];

    private static NodeDns.Dnstap.DnstapMessageTypes DnstapMessageTypes(RawValue value)
    {
        var types = NodeDns.Dnstap.DnstapMessageTypes.None;
        foreach (string name in value.Last.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            types |= name == "all" ? NodeDns.Dnstap.DnstapMessageTypes.All
                : NodeDns.Dnstap.DnstapMessageTypeNames.ByName.TryGetValue(name, out NodeDns.Dnstap.DnstapMessageTypes type) ? type
                : throw Bad(value.Source, value.Last, $"unknown message type '{name}'");
        }

        return types != NodeDns.Dnstap.DnstapMessageTypes.None ? types : throw Bad(value.Source, value.Last, "name at least one message type");
    }

    /// <summary>The node network being configured; its defaults while no node option has been given.</summary>
    private static NodeNetworkOptions Node(DaemonSettings s) => s.NodeNetwork ?? DaemonSettings.NodeNetworkDefaults;

    private static OptionSpec Number(string name, string jsonKey, string help, int min, int max, Func<DaemonSettings, int> get,
        Func<DaemonSettings, int, DaemonSettings> set, ReloadBehaviour reload = Applied, string? defaultDescription = null) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = reload, DefaultDescription = defaultDescription,
        Show = s => get(s).ToString(CultureInfo.InvariantCulture),
        Apply = (s, v) => set(s, Integer(v, min, max)),
    };

    private static OptionSpec Time(string name, string jsonKey, string help, TimeSpan min, TimeSpan max, Func<DaemonSettings, TimeSpan> get,
        Func<DaemonSettings, TimeSpan, DaemonSettings> set, ReloadBehaviour reload = Applied) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = reload,
        Show = s => FormatDuration(get(s)),
        Apply = (s, v) => set(s, Duration(v, min, max)),
    };

    private static OptionSpec Switch(string name, string jsonKey, string help, Func<DaemonSettings, bool> get,
        Func<DaemonSettings, bool, DaemonSettings> set, ReloadBehaviour reload = Applied) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = reload, IsSwitch = true,
        Show = s => get(s) ? "true" : "false",
        Apply = (s, v) => set(s, ValueParsers.Switch(v)),
    };

    private static OptionSpec OneOf<T>(string name, string jsonKey, string help, IReadOnlyDictionary<string, T> choices, Func<DaemonSettings, T> get,
        Func<DaemonSettings, T, DaemonSettings> set, ReloadBehaviour reload = Applied) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = reload,
        Show = s => NameOf(choices, get(s)),
        Apply = (s, v) => set(s, Choice(v, choices)),
    };

    /// <summary>on, off or auto (null: decided at start); needs a restart.</summary>
    private static OptionSpec AutoOnOff(string name, string jsonKey, string help, string defaultDescription, Func<DaemonSettings, bool?> get,
        Func<DaemonSettings, bool?, DaemonSettings> set) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = NeedsRestart, DefaultDescription = defaultDescription,
        Show = s => get(s) switch { null => "auto", true => "on", false => "off" },
        Apply = (s, v) => set(s, Choice(v, AutoOnOffChoices)),
    };

    private static readonly Dictionary<string, bool?> AutoOnOffChoices =
        new() { ["auto"] = null, ["on"] = true, ["off"] = false, ["true"] = true, ["false"] = false };

    private static OptionSpec Path(string name, string jsonKey, string help, Func<DaemonSettings, string?> get,
        Func<DaemonSettings, string, DaemonSettings> set) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = NeedsRestart, DefaultDescription = "none",
        Show = s => get(s) ?? "",
        Apply = (s, v) => set(s, v.Last),
    };

    private static OptionSpec Endpoints(string name, string jsonKey, string help, Func<DaemonSettings, IReadOnlyList<IPEndPoint>> get,
        Func<DaemonSettings, IReadOnlyList<IPEndPoint>, DaemonSettings> set, string? defaultDescription = null) => new()
    {
        Name = name, JsonKey = jsonKey, Help = help, Reload = NeedsRestart, Repeatable = true, DefaultDescription = defaultDescription,
        Show = s => string.Join(',', get(s)),
        Apply = (s, v) => set(s, [.. v.Values.Select(text => ParseEndPoint(text, null, v.Source))]),
    };
}
