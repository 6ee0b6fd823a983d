using System.Globalization;
using System.Net;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Node.Network;
using NodeDns.Protocol;

namespace NodeDns.Daemon.Configuration;

/// <summary>
/// Parses and formats option values. Every error names where the value came from (<c>--flag</c>, the environment
/// variable or the config file key) and the value as written; every formatter writes what its parser reads back.
/// </summary>
public static class ValueParsers
{
    public static int Integer(RawValue value, int min, int max)
    {
        string text = value.Last;
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int number) && number >= min && number <= max
            ? number
            : throw Bad(value.Source, text, $"expected a whole number from {min} to {max}");
    }

    /// <summary>A duration such as 500ms, 30s, 5m, 1h, 1d, or plain seconds; "off" is zero where zero is allowed.</summary>
    public static TimeSpan Duration(RawValue value, TimeSpan min, TimeSpan max)
    {
        string text = value.Last.Trim().ToLowerInvariant();
        TimeSpan? parsed = text == "off" ? TimeSpan.Zero : ParseDuration(text);
        return parsed is { } duration && duration >= min && duration <= max
            ? duration
            : throw Bad(value.Source, value.Last, $"expected a duration from {Describe(min)} to {Describe(max)}, e.g. 500ms, 30s, 5m, 1h");
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

    /// <summary>The shortest of 1d, 1h, 5m, 30s, 500ms that <see cref="ParseDuration"/> reads back exactly; "off" for zero.</summary>
    public static string FormatDuration(TimeSpan span, bool zeroIsOff = true)
    {
        if (span == TimeSpan.Zero)
        {
            return zeroIsOff ? "off" : "0s";
        }

        (string unit, TimeSpan size)[] units = [("d", TimeSpan.FromDays(1)), ("h", TimeSpan.FromHours(1)), ("m", TimeSpan.FromMinutes(1)), ("s", TimeSpan.FromSeconds(1))];
        foreach ((string unit, TimeSpan size) in units)
        {
            if (span.Ticks % size.Ticks == 0)
            {
                return (span.Ticks / size.Ticks).ToString(CultureInfo.InvariantCulture) + unit;
            }
        }

        return span.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms";
    }

    private static string Describe(TimeSpan span) =>
        span == TimeSpan.Zero ? "0 (off)" : span.TotalMilliseconds < 1000 ? $"{span.TotalMilliseconds}ms" : $"{span.TotalSeconds}s";

    /// <summary>A size in bytes with an optional K, M, G (powers of 1000) or Ki, Mi, Gi (powers of 1024) suffix.</summary>
    public static long ByteSize(RawValue value)
    {
        string text = value.Last.Trim();
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

    public static string FormatByteSize(long bytes) =>
        bytes % (1L << 30) == 0 ? $"{bytes >> 30}Gi" : bytes % (1L << 20) == 0 ? $"{bytes >> 20}Mi" : bytes % 1024 == 0 ? $"{bytes >> 10}Ki"
            : bytes.ToString(CultureInfo.InvariantCulture);

    public static bool Switch(RawValue value) => value.Last.Trim().ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" => false,
        _ => throw Bad(value.Source, value.Last, "expected true or false"),
    };

    public static T Choice<T>(RawValue value, IReadOnlyDictionary<string, T> choices) =>
        choices.TryGetValue(value.Last.ToLowerInvariant(), out T? choice)
            ? choice
            : throw Bad(value.Source, value.Last, "expected one of " + string.Join(", ", choices.Keys));

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
            : [new UpstreamSetting(zone, new UpstreamServer(ParseEndPoint(rest, UpstreamServer.DefaultPort, source), transport))];
    }

    public static string FormatUpstream(UpstreamSetting upstream)
    {
        string zone = upstream.Zone.Length == 1 ? "" : DnsName.ToText(upstream.Zone) + "=";
        string transport = upstream.Server.Transport switch
        {
            UpstreamTransport.Tcp => "/tcp",
            UpstreamTransport.UdpOnly => "/udp",
            _ => "",
        };
        return zone + upstream.Server.EndPoint + transport;
    }

    public static IReadOnlyList<UpstreamSetting> ResolvConfUpstreams(byte[] zone, string resolvConfPath, UpstreamTransport transport, string source)
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
            : [.. nameservers.Select(a => new UpstreamSetting(zone, new UpstreamServer(new IPEndPoint(a, UpstreamServer.DefaultPort), transport)))];
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
            uint.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out uint n) && n <= TtlPolicy.MaxBound
                ? n
                : throw Bad(source, text, $"TTLs must be whole seconds from 0 to {TtlPolicy.MaxBound}"))];
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

    public static string FormatZoneTtl(ZoneTtlSetting setting) =>
        $"{DnsName.ToText(setting.Zone)}={setting.Ttl.MinTtl}:{setting.Ttl.MaxTtl}:{setting.Ttl.NegativeMaxTtl}";

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

    public static readonly IReadOnlyDictionary<string, FirewallBackend> Firewalls = new Dictionary<string, FirewallBackend>
    {
        ["iptables"] = FirewallBackend.Iptables,
        ["nftables"] = FirewallBackend.Nftables,
        ["none"] = FirewallBackend.None,
    };

    public static FirewallBackend ParseFirewall(string text, string source) => Choice(new RawValue([text], source), Firewalls);

    /// <summary>The name <see cref="Choice"/> reads back as <paramref name="value"/>.</summary>
    public static string NameOf<T>(IReadOnlyDictionary<string, T> choices, T value) =>
        choices.First(c => EqualityComparer<T>.Default.Equals(c.Value, value)).Key;

    private static bool HasExplicitPort(string text) =>
        text.StartsWith('[') ? text.Contains("]:", StringComparison.Ordinal) : text.Count(c => c == ':') == 1;

    private static bool LooksLikePortProblem(string text)
    {
        string host = text[..text.LastIndexOf(':')].Trim('[', ']');
        return IPAddress.TryParse(host, out _);
    }

    public static ConfigurationException Bad(string source, string value, string why) => new($"{source}: invalid value '{value}': {why}");
}
