using System.Net;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Node.Network;
using NodeDns.Serving;

namespace NodeDns.Daemon.Configuration;

public enum LogFormat
{
    Text,
    Json,
}

/// <summary>One upstream as configured: the zone it serves (wire form, lower case) and the server.</summary>
public sealed record UpstreamSetting(byte[] Zone, UpstreamServer Server);

/// <summary>TTL bounds for one zone (wire form, lower case) and the zones below it.</summary>
public sealed record ZoneTtlSetting(byte[] Zone, TtlPolicy Ttl);

/// <summary>
/// The validated settings of <c>nodedns serve</c>. The initial values below (and those of the option records they
/// hold) are the defaults of every option: <see cref="OptionCatalog"/> shows them in help and README from here.
/// </summary>
public sealed record DaemonSettings
{
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 5353);
    public static readonly TimeSpan MaxLameduck = TimeSpan.FromMinutes(5);

    /// <summary>Every option at its default (upstreams, which default to the host's resolv.conf, empty).</summary>
    public static readonly DaemonSettings Defaults = new() { Listen = [DefaultListen], Upstreams = [] };

    /// <summary>The node network's defaults, for options given without --local-ip.</summary>
    public static readonly NodeNetworkOptions NodeNetworkDefaults = new() { LocalIps = [] };

    public required IReadOnlyList<IPEndPoint> Listen { get; init; }
    public required IReadOnlyList<UpstreamSetting> Upstreams { get; init; }
    public IPEndPoint? Metrics { get; init; } = new(IPAddress.Loopback, 9253);
    public CacheOptions Cache { get; init; } = new();
    public PipelineOptions Pipeline { get; init; } = new();
    public ForwarderOptions Forwarder { get; init; } = new();
    public int MaxFails { get; init; } = 2;
    public ClientPolicyOptions Clients { get; init; } = new();
    public TcpListenerOptions Tcp { get; init; } = new();
    public TimeSpan Lameduck { get; init; } = TimeSpan.FromSeconds(5);
    public bool ReadyRequiresUpstream { get; init; }

    /// <summary>The node step for --local-ip: null when no local IP is given.</summary>
    public NodeNetworkOptions? NodeNetwork { get; init; }
    public bool SetupInterface { get; init; }
    public bool SetupFirewall { get; init; }
    public bool SkipTeardown { get; init; }
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(60);

    public IReadOnlyList<IPEndPoint> ExtraHttp { get; init; } = [];
    public string? PidFile { get; init; }
    public string? SnapshotFile { get; init; }
    public string? HandoffSocket { get; init; }
    public string? LockFile { get; init; }

    /// <summary>The config file the settings were read from, if any.</summary>
    public string? ConfigFile { get; init; }

    /// <summary>Files whose change triggers a reload: the config file, or a Corefile and the kube-dns ConfigMap.</summary>
    public IReadOnlyList<string> WatchedFiles { get; init; } = [];
    public UpstreamPolicy Policy { get; init; } = UpstreamPolicy.Random;
    public TtlPolicy Ttl { get; init; } = TtlPolicy.Default;
    public IReadOnlyList<ZoneTtlSetting> ZoneTtls { get; init; } = [];
    public int UdpSockets { get; init; } = Environment.ProcessorCount;

    /// <summary>Whether listener threads run their upstream UDP queries on io_uring when the kernel allows it.</summary>
    public bool UpstreamIoUring { get; init; } = true;
    public LogFormat LogFormat { get; init; } = LogFormat.Text;
    public LogLevel LogLevel { get; init; } = LogLevel.Information;

    /// <summary>Watch this node's pods: true or false as given, null to decide from the environment (<see cref="Kubernetes.PodWatchPlan"/>).</summary>
    public bool? PodWatch { get; init; }

    /// <summary>The kubeconfig to use instead of the in-cluster service account.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The node whose pods are watched; null for env NODE_NAME, else the host name.</summary>
    public string? NodeName { get; init; }

    /// <summary>The cluster's DNS domain, under which kubelet puts pods' search domains.</summary>
    public string ClusterDomain { get; init; } = "cluster.local";

    /// <summary>Node-local autopath: true or false as given, null for "with the pod watch".</summary>
    public bool? Autopath { get; init; }

    /// <summary>The node's resolv.conf, whose search domains kubelet appends to pods' search lists.</summary>
    public string HostResolvConf { get; init; } = "/etc/resolv.conf";

    /// <summary>The top view (/debug/top) counts one query in this many; 1 counts every query.</summary>
    public int TopSample { get; init; } = 16;

    public DnstapSettings Dnstap { get; init; } = new();
}

/// <summary>dnstap logging: off while <see cref="Target"/> is null.</summary>
public sealed record DnstapSettings
{
    public NodeDns.Dnstap.DnstapTarget? Target { get; init; }

    /// <summary>The identity in each message; null for the host name.</summary>
    public string? Identity { get; init; }

    /// <summary>The version in each message; null for nodedns's own.</summary>
    public string? Version { get; init; }

    public NodeDns.Dnstap.DnstapMessageTypes Messages { get; init; } = NodeDns.Dnstap.DnstapMessageTypes.All;
    public int QueueLength { get; init; } = 4096;
}
