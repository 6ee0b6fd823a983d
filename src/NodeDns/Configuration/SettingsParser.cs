using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Node.Network;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Daemon.Configuration;

/// <summary>Turns raw option values into <see cref="DaemonSettings"/>; every error names the option and the value.</summary>
public static class SettingsParser
{
    public static readonly IPEndPoint DefaultListen = new(IPAddress.Loopback, 5353);
    public static readonly IPEndPoint DefaultMetrics = new(IPAddress.Loopback, 9253);
    public const string DefaultResolvConf = "/etc/resolv.conf";

    public static DaemonSettings Parse(IReadOnlyDictionary<OptionSpec, RawValue> raw, string resolvConfPath = DefaultResolvConf)
    {
        NodeNetworkOptions? node = NodeNetworkSettings(raw);
        IReadOnlyList<IPEndPoint> listen = raw.TryGetValue(OptionCatalog.Listen, out RawValue? l)
            ? [.. l.Values.Select(v => ParseEndPoint(v, null, l.Source))]
            : node is null ? [DefaultListen] : [];
        if (node is not null)
        {
            listen = [.. listen.Concat(node.LocalIps.Select(ip => new IPEndPoint(ip, node.DnsPort))).Distinct()];
        }
        IReadOnlyList<UpstreamSetting> upstreams = raw.TryGetValue(OptionCatalog.Upstream, out RawValue? u)
            ? [.. u.Values.SelectMany(v => ParseUpstream(v, u.Source))]
            : ResolvConfUpstreams([0], resolvConfPath, UpstreamTransport.Udp, OptionCatalog.Upstream.Flag);
        if (!upstreams.Any(s => s.Zone.Length == 1))
        {
            string source = u?.Source ?? OptionCatalog.Upstream.Flag;
            throw new ConfigurationException($"{source}: no upstream for the root zone '.' (add one without ZONE=, e.g. --upstream 10.96.0.10:53)");
        }

        var ttl = new TtlPolicy
        {
            MinTtl = (uint)Integer(raw, OptionCatalog.MinTtl, 0, 0, 604_800),
            MaxTtl = (uint)Integer(raw, OptionCatalog.MaxTtl, 3600, 0, 604_800),
            NegativeMaxTtl = (uint)Integer(raw, OptionCatalog.NegativeMaxTtl, 1800, 0, 604_800),
        };
        if (ttl.MinTtl > ttl.MaxTtl)
        {
            throw new ConfigurationException($"{OptionCatalog.MinTtl.Flag}: '{ttl.MinTtl}' is above {OptionCatalog.MaxTtl.Flag} '{ttl.MaxTtl}'");
        }

        ttl = ttl with { NegativeMinTtl = Math.Min(ttl.MinTtl, ttl.NegativeMaxTtl) };
        IReadOnlyList<ZoneTtlSetting> zoneTtls = raw.TryGetValue(OptionCatalog.ZoneTtl, out RawValue? z)
            ? [.. z.Values.Select(v => ParseZoneTtl(v, z.Source))]
            : [];
        return new DaemonSettings
        {
            Listen = listen,
            Upstreams = upstreams,
            Metrics = raw.TryGetValue(OptionCatalog.Metrics, out RawValue? m)
                ? (m.Values[^1] is "off" or "none" or "" ? null : ParseEndPoint(m.Values[^1], null, m.Source))
                : DefaultMetrics,
            Cache = CacheSettings(raw),
            Pipeline = new PipelineOptions
            {
                PreferPositiveStale = Switch(raw, OptionCatalog.ServeStalePreferPositive),
                PrefetchHits = Integer(raw, OptionCatalog.PrefetchHits, 2, 0, 1_000_000),
                PrefetchWindow = Duration(raw, OptionCatalog.PrefetchWindow, TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
                PrefetchPercent = Integer(raw, OptionCatalog.PrefetchPercent, 10, 10, 90),
                MaxInFlight = Integer(raw, OptionCatalog.MaxInFlight, 10_000, 1, 1_000_000),
                MaxWaitersPerQuestion = Integer(raw, OptionCatalog.MaxWaiters, 1_000, 1, 1_000_000),
            },
            Forwarder = new ForwarderOptions
            {
                HealthCheckInterval = Duration(raw, OptionCatalog.HealthCheck, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
            },
            MaxFails = Integer(raw, OptionCatalog.MaxFails, 2, 0, 1000),
            Clients = new ClientPolicyOptions
            {
                Allowed = raw.TryGetValue(OptionCatalog.Allow, out RawValue? allow)
                    ? [.. allow.Values.SelectMany(v => v == "any" ? ["0.0.0.0/0", "::/0"] : new[] { v })
                        .Select(v => AddressPrefix.TryParse(v, out AddressPrefix prefix) ? prefix : throw Bad(allow.Source, v, "expected a CIDR such as 10.0.0.0/8, or 'any'"))]
                    : new ClientPolicyOptions().Allowed,
                MissesPerSecond = Integer(raw, OptionCatalog.ClientMissRate, 500, 0, 10_000_000),
                MissBurst = Integer(raw, OptionCatalog.ClientMissBurst, 1000, 1, 10_000_000),
            },
            Tcp = new TcpListenerOptions
            {
                MaxConnectionsPerClient = Integer(raw, OptionCatalog.TcpPerClient, 64, 1, 100_000),
                IdleTimeout = Duration(raw, OptionCatalog.TcpIdleTimeout, TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10)),
            },
            Lameduck = Duration(raw, OptionCatalog.Lameduck, TimeSpan.FromSeconds(5), TimeSpan.Zero, TimeSpan.FromMinutes(5)),
            ReadyRequiresUpstream = Switch(raw, OptionCatalog.ReadyUpstream),
            ConfigFile = raw.TryGetValue(OptionCatalog.Config, out RawValue? config) ? config.Values[^1] : null,
            WatchedFiles = raw.TryGetValue(OptionCatalog.Config, out RawValue? watched) ? [watched.Values[^1]] : [],
            ExtraHttp = raw.TryGetValue(OptionCatalog.HttpListen, out RawValue? http)
                ? [.. http.Values.Select(v => ParseEndPoint(v, null, http.Source)).Distinct()]
                : [],
            PidFile = raw.TryGetValue(OptionCatalog.PidFile, out RawValue? pid) ? pid.Values[^1] : null,
            SnapshotFile = raw.TryGetValue(OptionCatalog.Snapshot, out RawValue? snapshot) ? snapshot.Values[^1] : null,
            HandoffSocket = raw.TryGetValue(OptionCatalog.HandoffSocket, out RawValue? handoff) ? handoff.Values[^1] : null,
            LockFile = raw.TryGetValue(OptionCatalog.LockFile, out RawValue? lockFile) ? lockFile.Values[^1] : null,
            NodeNetwork = node,
            SetupInterface = node is not null && Switch(raw, OptionCatalog.SetupInterface),
            SetupFirewall = node is not null && Switch(raw, OptionCatalog.SetupIptables),
            SkipTeardown = Switch(raw, OptionCatalog.SkipTeardown),
            SyncInterval = Duration(raw, OptionCatalog.SyncInterval, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(1), TimeSpan.FromHours(1)),
            Policy = Choice(raw, OptionCatalog.Policy, UpstreamPolicy.Random, new()
            {
                ["random"] = UpstreamPolicy.Random,
                ["round_robin"] = UpstreamPolicy.RoundRobin,
                ["sequential"] = UpstreamPolicy.Sequential,
            }),
            Ttl = ttl,
            ZoneTtls = zoneTtls,
            UdpSockets = Integer(raw, OptionCatalog.UdpSockets, Environment.ProcessorCount, 1, 64),
            LogFormat = Choice(raw, OptionCatalog.LogFormat, LogFormat.Text, new() { ["text"] = LogFormat.Text, ["json"] = LogFormat.Json }),
            LogLevel = Choice(raw, OptionCatalog.LogLevel, LogLevel.Information, new()
            {
                ["trace"] = LogLevel.Trace,
                ["debug"] = LogLevel.Debug,
                ["information"] = LogLevel.Information,
                ["info"] = LogLevel.Information,
                ["warning"] = LogLevel.Warning,
                ["error"] = LogLevel.Error,
            }),
        };
    }

    /// <summary>Parses IP:PORT, [IPv6]:PORT, or a bare IP when <paramref name="defaultPort"/> is given.</summary>
    public static IPEndPoint ParseEndPoint(string text, int? defaultPort, string source)
    {
        if (IPEndPoint.TryParse(text, out IPEndPoint? endPoint) && HasExplicitPort(text))
        {
            return endPoint.Port > 0 ? endPoint : throw Bad(source, text, "port must be 1-65535");
        }

        if (defaultPort is int port && IPAddress.TryParse(text.Trim('[', ']'), out IPAddress? address))
        {
            return new IPEndPoint(address, port);
        }

        string expected = defaultPort is null ? "IP:PORT" : "IP or IP:PORT";
        return HasExplicitPort(text) && LooksLikePortProblem(text)
            ? throw Bad(source, text, "port must be 1-65535")
            : throw Bad(source, text, $"expected {expected}");
    }

    /// <summary>
    /// Parses <c>[ZONE=]IP[:PORT][/tcp|/udp]</c>, or <c>[ZONE=]/path/to/resolv.conf[/tcp|/udp]</c> for that file's
    /// nameservers (as CoreDNS's <c>forward . /etc/resolv.conf</c>).
    /// </summary>
    public static IReadOnlyList<UpstreamSetting> ParseUpstream(string text, string source)
    {
        string rest = text.Trim();
        byte[] zone = [0];
        int equals = rest.IndexOf('=');
        if (equals >= 0)
        {
            if (!DnsName.TryParseText(rest[..equals], out zone))
            {
                throw Bad(source, text, $"'{rest[..equals]}' is not a valid zone name");
            }

            rest = rest[(equals + 1)..];
        }

        UpstreamTransport transport = UpstreamTransport.Udp;
        int slash = rest.LastIndexOf('/');
        string suffix = slash >= 0 ? rest[(slash + 1)..].ToLowerInvariant() : "";
        bool isFile = rest.StartsWith('/');
        if (slash >= 0 && (!isFile || suffix is "tcp" or "udp"))
        {
            transport = suffix switch
            {
                "tcp" => UpstreamTransport.Tcp,
                "udp" => UpstreamTransport.UdpOnly,
                _ => throw Bad(source, text, "transport must be /tcp or /udp"),
            };
            rest = rest[..slash];
        }

        return isFile
            ? ResolvConfUpstreams(zone, rest, transport, $"{source}: '{text}'")
            : [new UpstreamSetting(zone, new UpstreamServer(ParseEndPoint(rest, 53, source), transport))];
    }

    /// <summary>Parses <c>ZONE=MIN:MAX[:NEGATIVE_MAX]</c>; the negative maximum defaults to MAX.</summary>
    public static ZoneTtlSetting ParseZoneTtl(string text, string source)
    {
        string[] parts = text.Split('=', 2);
        if (parts.Length != 2 || !DnsName.TryParseText(parts[0], out byte[] zone))
        {
            throw Bad(source, text, "expected ZONE=MIN:MAX[:NEGATIVE_MAX]");
        }

        uint[] seconds = [.. parts[1].Split(':').Select(p =>
            uint.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) && n <= 604_800
                ? n
                : throw Bad(source, text, "TTLs must be whole seconds from 0 to 604800"))];
        if (seconds.Length is < 2 or > 3 || seconds[0] > seconds[1])
        {
            throw Bad(source, text, "expected ZONE=MIN:MAX[:NEGATIVE_MAX] with MIN <= MAX");
        }

        uint negativeMax = seconds.Length == 3 ? seconds[2] : seconds[1];
        return new ZoneTtlSetting(zone, new TtlPolicy
        {
            MinTtl = seconds[0],
            MaxTtl = seconds[1],
            NegativeMinTtl = Math.Min(seconds[0], negativeMax),
            NegativeMaxTtl = negativeMax,
        });
    }

    private static IReadOnlyList<UpstreamSetting> ResolvConfUpstreams(byte[] zone, string resolvConfPath, UpstreamTransport transport, string source)
    {
        List<IPAddress> nameservers;
        try
        {
            nameservers = [.. File.ReadLines(resolvConfPath)
                .Select(line => line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                .Where(fields => fields.Length >= 2 && fields[0] == "nameserver")
                .Select(fields => IPAddress.TryParse(fields[1].Split('%')[0], out IPAddress? a) ? a : null)
                .OfType<IPAddress>()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"{source}: {resolvConfPath} cannot be read: {e.Message}");
        }

        return nameservers.Count == 0
            ? throw new ConfigurationException($"{source}: {resolvConfPath} lists no nameserver")
            : [.. nameservers.Select(a => new UpstreamSetting(zone, new UpstreamServer(new IPEndPoint(a, 53), transport)))];
    }

    private static NodeNetworkOptions? NodeNetworkSettings(IReadOnlyDictionary<OptionSpec, RawValue> raw)
    {
        if (!raw.TryGetValue(OptionCatalog.LocalIp, out RawValue? localIp))
        {
            foreach (OptionSpec needsLocalIp in (OptionSpec[])[OptionCatalog.SetupInterface, OptionCatalog.SetupIptables])
            {
                if (Switch(raw, needsLocalIp))
                {
                    throw new ConfigurationException($"{raw[needsLocalIp].Source}: needs --local-ip");
                }
            }

            return null;
        }

        return new NodeNetworkOptions
        {
            LocalIps = ParseLocalIps(string.Join(',', localIp.Values), localIp.Source),
            DnsPort = Integer(raw, OptionCatalog.DnsPort, 53, 1, 65535),
            HealthPort = Integer(raw, OptionCatalog.HealthPort, 8080, 1, 65535),
            InterfaceName = raw.TryGetValue(OptionCatalog.Interface, out RawValue? name)
                ? ParseInterfaceName(name.Values[^1], name.Source)
                : Node.Network.LinkLocalInterface.DefaultName,
            Firewall = raw.TryGetValue(OptionCatalog.Firewall, out RawValue? firewall)
                ? ParseFirewall(firewall.Values[^1], firewall.Source)
                : FirewallBackend.Iptables,
            SetupInterface = Switch(raw, OptionCatalog.SetupInterface),
            FailOpen = Switch(raw, OptionCatalog.FailOpen),
        };
    }

    private static CacheOptions CacheSettings(IReadOnlyDictionary<OptionSpec, RawValue> raw)
    {
        int size = Integer(raw, OptionCatalog.CacheSize, 10_000, 1, 10_000_000);
        return new CacheOptions
        {
            PositiveEntries = size,
            NegativeEntries = Integer(raw, OptionCatalog.NegativeCacheSize, size, 1, 10_000_000),
            FailureEntries = size,
            MaxBytes = ByteSize(raw, OptionCatalog.CacheMemory, 64L << 20),
            StaleWindow = Duration(raw, OptionCatalog.ServeStale, TimeSpan.FromHours(1), TimeSpan.Zero, CacheOptions.MaxStaleWindow),
            MaxFailureTtl = Duration(raw, OptionCatalog.FailureMaxTtl, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1), CacheOptions.HardMaxFailureTtl),
        };
    }

    /// <summary>A duration such as 500ms, 30s, 5m, 1h, 1d, or plain seconds; "off" is zero where zero is allowed.</summary>
    private static TimeSpan Duration(IReadOnlyDictionary<OptionSpec, RawValue> raw, OptionSpec option, TimeSpan fallback, TimeSpan min, TimeSpan max)
    {
        if (!raw.TryGetValue(option, out RawValue? value))
        {
            return fallback;
        }

        string text = value.Values[^1].Trim().ToLowerInvariant();
        TimeSpan? parsed = text == "off" ? TimeSpan.Zero : ParseDuration(text);
        return parsed is { } duration && duration >= min && duration <= max
            ? duration
            : throw Bad(value.Source, value.Values[^1], $"expected a duration from {Describe(min)} to {Describe(max)}, e.g. 500ms, 30s, 5m, 1h");
    }

    public static TimeSpan? ParseDuration(string text)
    {
        (string unit, double scale)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)];
        foreach ((string unit, double scale) in units)
        {
            if (text.EndsWith(unit, StringComparison.Ordinal) && !(unit == "s" && text.EndsWith("ms", StringComparison.Ordinal))
                && double.TryParse(text[..^unit.Length], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
            {
                return TimeSpan.FromSeconds(number * scale);
            }
        }

        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) ? TimeSpan.FromSeconds(seconds) : null;
    }

    private static string Describe(TimeSpan span) =>
        span == TimeSpan.Zero ? "0 (off)" : span.TotalMilliseconds < 1000 ? $"{span.TotalMilliseconds}ms" : $"{span.TotalSeconds}s";

    /// <summary>A size in bytes with an optional K, M, G (powers of 1000) or Ki, Mi, Gi (powers of 1024) suffix.</summary>
    private static long ByteSize(IReadOnlyDictionary<OptionSpec, RawValue> raw, OptionSpec option, long fallback)
    {
        if (!raw.TryGetValue(option, out RawValue? value))
        {
            return fallback;
        }

        string text = value.Values[^1].Trim();
        (string suffix, long scale)[] units = [("Ki", 1L << 10), ("Mi", 1L << 20), ("Gi", 1L << 30), ("K", 1000), ("M", 1_000_000), ("G", 1_000_000_000), ("", 1)];
        foreach ((string suffix, long scale) in units)
        {
            if (text.EndsWith(suffix, StringComparison.Ordinal)
                && long.TryParse(text[..^suffix.Length], NumberStyles.None, CultureInfo.InvariantCulture, out long number)
                && number * scale is >= 1L << 20 and <= 64L << 30)
            {
                return number * scale;
            }
        }

        throw Bad(value.Source, text, "expected a size from 1Mi to 64Gi, e.g. 64Mi");
    }

    private static bool Switch(IReadOnlyDictionary<OptionSpec, RawValue> raw, OptionSpec option)
    {
        if (!raw.TryGetValue(option, out RawValue? value))
        {
            return false;
        }

        return value.Values[^1].Trim().ToLowerInvariant() switch
        {
            "true" or "1" or "yes" or "on" => true,
            "false" or "0" or "no" or "off" => false,
            _ => throw Bad(value.Source, value.Values[^1], "expected true or false"),
        };
    }

    public static IReadOnlyList<IPAddress> ParseLocalIps(string text, string source)
    {
        var addresses = new List<IPAddress>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            addresses.Add(IPAddress.TryParse(part.Trim('[', ']'), out IPAddress? address) && !IPAddress.IsLoopback(address)
                ? address
                : throw new ConfigurationException($"{source}: invalid value '{text}': '{part}' is not a non-loopback IP address"));
        }

        return addresses.Count > 0 ? addresses : throw new ConfigurationException($"{source}: invalid value '{text}': no address");
    }

    public static string ParseInterfaceName(string name, string source) =>
        name.Length is > 0 and <= 15 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
            ? name
            : throw new ConfigurationException($"{source}: invalid value '{name}': an interface name has 1-15 letters, digits, '-', '_' or '.'");

    public static FirewallBackend ParseFirewall(string text, string source) => text.ToLowerInvariant() switch
    {
        "iptables" => FirewallBackend.Iptables,
        "nftables" => FirewallBackend.Nftables,
        "none" => FirewallBackend.None,
        _ => throw new ConfigurationException($"{source}: invalid value '{text}': expected iptables, nftables or none"),
    };

    private static int Integer(IReadOnlyDictionary<OptionSpec, RawValue> raw, OptionSpec option, int fallback, int min, int max)
    {
        if (!raw.TryGetValue(option, out RawValue? value))
        {
            return fallback;
        }

        string text = value.Values[^1];
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= min && number <= max
            ? number
            : throw Bad(value.Source, text, $"expected a whole number from {min} to {max}");
    }

    private static T Choice<T>(IReadOnlyDictionary<OptionSpec, RawValue> raw, OptionSpec option, T fallback, Dictionary<string, T> choices)
    {
        if (!raw.TryGetValue(option, out RawValue? value))
        {
            return fallback;
        }

        string text = value.Values[^1];
        return choices.TryGetValue(text.ToLowerInvariant(), out T? choice)
            ? choice
            : throw Bad(value.Source, text, "expected one of " + string.Join(", ", choices.Keys));
    }

    private static bool HasExplicitPort(string text) =>
        text.StartsWith('[') ? text.Contains("]:", StringComparison.Ordinal) : text.Count(c => c == ':') == 1;

    private static bool LooksLikePortProblem(string text)
    {
        string host = text[..text.LastIndexOf(':')].Trim('[', ']');
        return IPAddress.TryParse(host, out _);
    }

    private static ConfigurationException Bad(string source, string value, string why) => new($"{source}: invalid value '{value}': {why}");
}
