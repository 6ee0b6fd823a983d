using System.Globalization;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Compatibility;

/// <summary>
/// node-local-dns's command line (Go flags: <c>-flag value</c>, <c>-flag=value</c>, bare booleans), so that its
/// DaemonSet runs NodeDns with only the image changed. The Corefile template is rendered as node-cache does, then
/// translated into NodeDns settings; the flags add the node setup. Flags node-cache has but NodeDns does not
/// implement are rejected by name.
/// </summary>
public sealed class NodeCacheCommandLine
{
    private static readonly Dictionary<string, string> Defaults = new()
    {
        ["localip"] = "",
        ["conf"] = "",
        ["basecorefile"] = "/etc/coredns/Corefile.base",
        ["corefile"] = "/etc/Corefile",
        ["upstreamsvc"] = "kube-dns",
        ["setupinterface"] = "true",
        ["interfacename"] = "nodelocaldns",
        ["setupiptables"] = "true",
        ["skipteardown"] = "false",
        ["syncinterval"] = "60",
        ["health-port"] = "8080",
        ["metrics-listen-address"] = "0.0.0.0:9353",
        ["prometheus-listen-address"] = ":9253",
        ["kubednscm"] = "",
        ["pidfile"] = "",
        ["dns.port"] = "53",
    };

    private static readonly HashSet<string> Booleans = ["setupinterface", "setupiptables", "skipteardown"];
    private static readonly HashSet<string> Unsupported = ["reloadwithsignal", "quiet", "version", "plugins", "p", "dns.port.tls"];

    private readonly Dictionary<string, string> _flags;

    private NodeCacheCommandLine(Dictionary<string, string> flags) => _flags = flags;

    /// <summary>True when the arguments are Go-style single-dash flags rather than NodeDns's own.</summary>
    public static bool Applies(IReadOnlyList<string> args) =>
        args.Count > 0 && args[0].Length > 1 && args[0][0] == '-' && args[0][1] != '-' && args[0] != "-h";

    public static NodeCacheCommandLine Parse(IReadOnlyList<string> args)
    {
        var flags = new Dictionary<string, string>(Defaults);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith('-') || arg.StartsWith("--", StringComparison.Ordinal) && arg.Length == 2)
            {
                throw new ConfigurationException($"unexpected argument '{arg}' (node-local-dns flags look like -localip 169.254.20.10)");
            }

            string name = arg.TrimStart('-');
            string? value = null;
            int equals = name.IndexOf('=');
            if (equals >= 0)
            {
                value = name[(equals + 1)..];
                name = name[..equals];
            }

            if (Unsupported.Contains(name))
            {
                throw new ConfigurationException($"-{name}: this node-local-dns flag is not supported by NodeDns");
            }

            if (!Defaults.ContainsKey(name))
            {
                throw new ConfigurationException($"-{name}: unknown flag (NodeDns accepts node-local-dns's flags: {string.Join(", ", Defaults.Keys.Select(k => "-" + k))})");
            }

            if (value is null && Booleans.Contains(name))
            {
                value = "true";
            }

            flags[name] = value ?? (i + 1 < args.Count ? args[++i] : throw new ConfigurationException($"-{name}: missing value"));
        }

        if (flags["localip"].Length == 0)
        {
            throw new ConfigurationException("-localip: invalid localip specified (give the node-local address(es), comma-separated)");
        }

        return new NodeCacheCommandLine(flags);
    }

    public string CorefileTemplatePath => File.Exists(_flags["basecorefile"]) ? _flags["basecorefile"]
        : _flags["conf"].Length > 0 ? _flags["conf"] : _flags["corefile"];

    public string? KubeDnsDirectory => _flags["kubednscm"].Length > 0 ? _flags["kubednscm"] : Directory.Exists("/etc/kube-dns") ? "/etc/kube-dns" : null;

    /// <summary>Renders the Corefile and builds the settings; run again for every reload.</summary>
    public DaemonSettings Load(IReadOnlyDictionary<string, string?> environment, Action<string> warn)
    {
        string templatePath = CorefileTemplatePath;
        string template;
        try
        {
            template = File.ReadAllText(templatePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"-conf: cannot read the Corefile '{templatePath}': {e.Message}");
        }

        string serviceVariable = _flags["upstreamsvc"].ToUpperInvariant().Replace('-', '_') + "_SERVICE_HOST";
        string? clusterDns = environment.GetValueOrDefault(serviceVariable);
        if (clusterDns is null && template.Contains("__PILLAR__CLUSTER__DNS__", StringComparison.Ordinal))
        {
            throw new ConfigurationException($"-upstreamsvc: ${serviceVariable} is not set, so __PILLAR__CLUSTER__DNS__ cannot be filled in");
        }

        string[] localIps = [.. _flags["localip"].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
        int port = Number("dns.port", 1, 65535);
        DaemonSettings settings;
        CorefileTranslator translation;
        try
        {
            KubeDnsConfig kubeDns = KubeDnsConfig.Load(KubeDnsDirectory);
            string corefile = PillarRenderer.Render(template, localIps, clusterDns, kubeDns, port, _flags["prometheus-listen-address"]);
            WriteRendered(templatePath, corefile, warn);
            translation = CorefileTranslator.Translate(CorefileParser.Parse(corefile, templatePath), port, warn);
            Dictionary<OptionSpec, RawValue> raw = translation.Values;
            Add(raw, OptionCatalog.LocalIp, _flags["localip"], "-localip");
            Add(raw, OptionCatalog.DnsPort, port.ToString(CultureInfo.InvariantCulture), "-dns.port");
            Add(raw, OptionCatalog.SetupInterface, _flags["setupinterface"], "-setupinterface");
            Add(raw, OptionCatalog.SetupIptables, _flags["setupiptables"], "-setupiptables");
            Add(raw, OptionCatalog.Interface, _flags["interfacename"], "-interfacename");
            Add(raw, OptionCatalog.SkipTeardown, _flags["skipteardown"], "-skipteardown");
            Add(raw, OptionCatalog.HealthPort, _flags["health-port"], "-health-port");
            Add(raw, OptionCatalog.SyncInterval, GoDuration(_flags["syncinterval"]), "-syncinterval");
            if (_flags["metrics-listen-address"].Length > 0)
            {
                string address = _flags["metrics-listen-address"];
                raw[OptionCatalog.HttpListen] = new RawValue([.. raw.GetValueOrDefault(OptionCatalog.HttpListen)?.Values ?? [], address.StartsWith(':') ? "0.0.0.0" + address : address],
                    "-metrics-listen-address");
            }

            if (_flags["pidfile"].Length > 0)
            {
                Add(raw, OptionCatalog.PidFile, _flags["pidfile"], "-pidfile");
            }

            settings = SettingsParser.Parse(raw);
        }
        catch (CorefileException e)
        {
            throw new ConfigurationException(e.Message);
        }

        RejectForwardingLoop(settings);
        return settings with { WatchedFiles = [templatePath, .. KubeDnsConfig.Files(KubeDnsDirectory)] };
    }

    /// <summary>Where node-cache writes the rendered Corefile: -conf when given, else -corefile.</summary>
    public string RenderedCorefilePath => _flags["conf"].Length > 0 ? _flags["conf"] : _flags["corefile"];

    /// <summary>
    /// As node-cache does, writes the Corefile rendered from the -basecorefile template to <see cref="RenderedCorefilePath"/>,
    /// so operators can read what runs. Atomic (a temporary file renamed over it) and only when it changed; a failure
    /// to write is a warning, never a reason not to serve.
    /// </summary>
    private void WriteRendered(string templatePath, string corefile, Action<string> warn)
    {
        string path = RenderedCorefilePath;
        if (templatePath == path)
        {
            return; // no template: the file given is the Corefile itself
        }

        try
        {
            if (File.Exists(path) && File.ReadAllText(path) == corefile)
            {
                return;
            }

            string temporary = path + ".nodedns-tmp";
            File.WriteAllText(temporary, corefile);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn($"cannot write the rendered Corefile to {path}: {e.Message}");
        }
    }

    /// <summary>As CoreDNS's loop plugin: forwarding to one of our own addresses would send queries round in circles.</summary>
    private static void RejectForwardingLoop(DaemonSettings settings)
    {
        foreach (UpstreamSetting upstream in settings.Upstreams)
        {
            if (settings.Listen.Any(l => l.Equals(upstream.Server.EndPoint)
                || (l.Address.Equals(System.Net.IPAddress.Any) && l.Port == upstream.Server.EndPoint.Port && System.Net.IPAddress.IsLoopback(upstream.Server.EndPoint.Address))))
            {
                throw new ConfigurationException($"loop: zone {Protocol.DnsName.ToText(upstream.Zone)} forwards to {upstream.Server.EndPoint}, "
                    + "which is this server's own address: queries would loop. Point it at the cluster DNS (e.g. the kube-dns-upstream Service).");
            }
        }
    }

    private int Number(string name, int min, int max) =>
        int.TryParse(_flags[name], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new ConfigurationException($"-{name}: invalid value '{_flags[name]}'");

    /// <summary>node-cache multiplies -syncinterval by a second: a bare number means seconds.</summary>
    private static string GoDuration(string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) ? $"{seconds}s" : value;

    private static void Add(Dictionary<OptionSpec, RawValue> raw, OptionSpec option, string value, string source) =>
        raw[option] = new RawValue([value], source);
}
