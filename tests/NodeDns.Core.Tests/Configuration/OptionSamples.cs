using NodeDns.Daemon.Cli;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Core.Tests.Configuration;

/// <summary>A non-default value for every option, and the command lines that give one.</summary>
internal static class OptionSamples
{
    /// <summary>A value other than the default for every option (OptionRegistryTests fails for an option without one).</summary>
    public static readonly Dictionary<string, string> Values = new()
    {
        ["listen"] = "127.0.0.1:5400", ["upstream"] = "10.96.0.10:5300/tcp", ["metrics"] = "127.0.0.1:9400",
        ["cache-size"] = "2000", ["negative-cache-size"] = "300", ["cache-memory"] = "32Mi", ["policy"] = "sequential",
        ["min-ttl"] = "5", ["max-ttl"] = "600", ["negative-max-ttl"] = "60", ["zone-ttl"] = "cluster.local=5:30:5",
        ["serve-stale"] = "2h", ["serve-stale-prefer-positive"] = "true", ["failure-max-ttl"] = "1m", ["prefetch-hits"] = "5",
        ["prefetch-window"] = "30s", ["prefetch-percent"] = "20", ["max-fails"] = "4", ["health-check"] = "2s", ["max-inflight"] = "500",
        ["max-waiters"] = "50", ["lameduck"] = "1s", ["ready-upstream"] = "true", ["local-ip"] = "169.254.20.10", ["dns-port"] = "5300",
        ["setup-interface"] = "true", ["setup-iptables"] = "true", ["firewall"] = "nftables", ["interface"] = "nodedns0",
        ["health-port"] = "8081", ["fail-open"] = "true", ["skip-teardown"] = "true", ["sync-interval"] = "10s",
        ["http-listen"] = "127.0.0.1:8181", ["pidfile"] = "/run/nodedns.pid", ["snapshot"] = "/var/lib/nodedns/cache",
        ["handoff-socket"] = "/run/nodedns.sock", ["lock-file"] = "/run/nodedns.lock", ["allow"] = "10.0.0.0/8",
        ["client-miss-rate"] = "50", ["client-miss-burst"] = "70", ["tcp-per-client"] = "8", ["tcp-idle-timeout"] = "3s",
        ["udp-sockets"] = "3", ["upstream-io-uring"] = "false", ["log-format"] = "json", ["log-level"] = "debug", ["pod-watch"] = "off", ["kubeconfig"] = "/etc/nodedns/kubeconfig",
        ["node-name"] = "node-a.example", ["cluster-domain"] = "corp.internal", ["top-sample"] = "1", ["autopath"] = "off",
        ["host-resolv-conf"] = "/run/host/resolv.conf", ["dnstap"] = "unix:/run/dnstap.sock", ["dnstap-identity"] = "node-a",
        ["dnstap-version"] = "nodedns-test", ["dnstap-messages"] = "client-query,forwarder-response", ["dnstap-queue"] = "128",
    };

    public static readonly string[] RootUpstream = ["--upstream", "127.0.0.1:53"];

    /// <summary>Options that only count with --local-ip.</summary>
    private static readonly OptionSpec[] NodeOptions =
    [
        OptionCatalog.DnsPort, OptionCatalog.SetupInterface, OptionCatalog.SetupIptables, OptionCatalog.Firewall, OptionCatalog.Interface,
        OptionCatalog.HealthPort, OptionCatalog.FailOpen,
    ];

    /// <summary>The host resolv.conf the default upstream comes from.</summary>
    private static readonly string ResolvConf = WriteResolvConf();

    private static string WriteResolvConf()
    {
        string path = Path.Combine(Path.GetTempPath(), $"nodedns-registry-{Environment.ProcessId}.conf");
        File.WriteAllText(path, "nameserver 127.0.0.9\n");
        return path;
    }

    public static DaemonSettings Load(IEnumerable<string> args, Dictionary<string, string?>? environment = null) =>
        SettingsParser.Parse(RawSettings.Merge(CommandLine.Parse([.. args]).Options, environment ?? []), ResolvConf);

    /// <summary>What else a command line needs for <paramref name="option"/> to count: a root upstream, a local IP.</summary>
    public static string[] Context(OptionSpec option) =>
        [.. option == OptionCatalog.Upstream ? [] : RootUpstream, .. NodeOptions.Contains(option) ? ["--local-ip", "169.254.20.10"] : Array.Empty<string>()];

    public static string[] Given(OptionSpec option, string value) => [$"{option.Flag}={value}", .. Context(option)];
}
