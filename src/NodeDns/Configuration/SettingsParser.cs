namespace NodeDns.Daemon.Configuration;

/// <summary>
/// Turns raw option values into <see cref="DaemonSettings"/>: each given option is applied by its own declaration in
/// <see cref="OptionCatalog"/>, then the rules that tie options together are checked. Every error names the option
/// (as the user wrote it: flag, environment variable or config key) and the value.
/// </summary>
public static class SettingsParser
{
    public const string DefaultResolvConf = "/etc/resolv.conf";

    public static DaemonSettings Parse(IReadOnlyDictionary<OptionSpec, RawValue> raw, string resolvConfPath = DefaultResolvConf)
    {
        DaemonSettings settings = Apply(DaemonSettings.Defaults, raw);
        settings = CompleteNodeNetwork(settings, raw);
        settings = CompleteUpstreams(settings, raw, resolvConfPath);
        return settings with
        {
            Ttl = CheckedTtl(settings),
            ConfigFile = raw.TryGetValue(OptionCatalog.Config, out RawValue? config) ? config.Last : null,
            WatchedFiles = raw.TryGetValue(OptionCatalog.Config, out RawValue? watched) ? [watched.Last] : [],
        };
    }

    /// <summary>Applies the given options, in the order of <see cref="OptionCatalog.All"/>, to <paramref name="settings"/>.</summary>
    public static DaemonSettings Apply(DaemonSettings settings, IReadOnlyDictionary<OptionSpec, RawValue> raw)
    {
        foreach (OptionSpec option in OptionCatalog.All)
        {
            if (option.Apply is not null && raw.TryGetValue(option, out RawValue? value))
            {
                settings = option.Apply(settings, value);
            }
        }

        return settings;
    }

    /// <summary>
    /// The node network exists only with --local-ip; its addresses are served on (beside --listen, which then has no
    /// default) and the setup switches need it.
    /// </summary>
    private static DaemonSettings CompleteNodeNetwork(DaemonSettings settings, IReadOnlyDictionary<OptionSpec, RawValue> raw)
    {
        if (settings.NodeNetwork is not { LocalIps.Count: > 0 } node)
        {
            foreach (OptionSpec needsLocalIp in (OptionSpec[])[OptionCatalog.SetupInterface, OptionCatalog.SetupIptables])
            {
                if (raw.TryGetValue(needsLocalIp, out RawValue? value) && ValueParsers.Switch(value))
                {
                    throw new ConfigurationException($"{value.Source}: needs --local-ip");
                }
            }

            return settings with { NodeNetwork = null };
        }

        IEnumerable<System.Net.IPEndPoint> given = raw.ContainsKey(OptionCatalog.Listen) ? settings.Listen : [];
        return settings with
        {
            Listen = [.. given.Concat(node.LocalIps.Select(ip => new System.Net.IPEndPoint(ip, node.DnsPort))).Distinct()],
            NodeNetwork = node with { SetupInterface = settings.SetupInterface },
        };
    }

    private static DaemonSettings CompleteUpstreams(DaemonSettings settings, IReadOnlyDictionary<OptionSpec, RawValue> raw, string resolvConfPath)
    {
        raw.TryGetValue(OptionCatalog.Upstream, out RawValue? given);
        IReadOnlyList<UpstreamSetting> upstreams = given is not null
            ? settings.Upstreams
            : ValueParsers.ResolvConfUpstreams([0], resolvConfPath, Forwarding.UpstreamTransport.Udp, OptionCatalog.Upstream.Flag);
        if (!upstreams.Any(s => s.Zone.Length == 1))
        {
            string source = given?.Source ?? OptionCatalog.Upstream.Flag;
            throw new ConfigurationException($"{source}: no upstream for the root zone '.' (add one without ZONE=, e.g. --upstream 10.96.0.10:53)");
        }

        return settings with { Upstreams = upstreams };
    }

    private static Caching.TtlPolicy CheckedTtl(DaemonSettings settings)
    {
        Caching.TtlPolicy ttl = settings.Ttl;
        if (ttl.MinTtl > ttl.MaxTtl)
        {
            throw new ConfigurationException($"{OptionCatalog.MinTtl.Flag}: '{ttl.MinTtl}' is above {OptionCatalog.MaxTtl.Flag} '{ttl.MaxTtl}'");
        }

        return ttl with { NegativeMinTtl = Math.Min(ttl.MinTtl, ttl.NegativeMaxTtl) };
    }
}
