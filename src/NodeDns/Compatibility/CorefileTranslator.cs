using System.Globalization;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Compatibility;

/// <summary>
/// Turns the Corefile subset node-local-dns uses into NodeDns option values, so the same validation applies and
/// errors name the Corefile position. One NodeDns cache serves all server blocks: capacities add up, and each
/// block's TTL bounds become per-zone bounds.
/// </summary>
public sealed class CorefileTranslator
{
    /// <summary>Accepted and ignored with a warning: they do not change answers.</summary>
    public static readonly IReadOnlyList<string> IgnoredDirectives = ["debug", "pprof", "trace"];

    /// <summary>Accepted with no setting of their own: NodeDns always does this (errors, reload) or by design not (log).</summary>
    public static readonly IReadOnlyList<string> ImplicitDirectives = ["errors", "reload", "loop", "log"];

    private readonly Dictionary<OptionSpec, (List<string> Values, string Source)> _values = [];
    private readonly Action<string> _warn;
    private readonly int _defaultPort;
    private int _positiveCapacity;
    private int _negativeCapacity;

    private CorefileTranslator(Action<string> warn, int defaultPort)
    {
        _warn = warn;
        _defaultPort = defaultPort;
    }

    public static CorefileTranslator Translate(IReadOnlyList<CorefileServerBlock> blocks, int defaultPort, Action<string> warn)
    {
        var translator = new CorefileTranslator(warn, defaultPort);
        foreach (CorefileServerBlock block in blocks)
        {
            translator.TranslateBlock(block);
        }

        translator.Set(OptionCatalog.CacheSize, translator._positiveCapacity.ToString(CultureInfo.InvariantCulture), "Corefile cache capacities");
        translator.Set(OptionCatalog.NegativeCacheSize, translator._negativeCapacity.ToString(CultureInfo.InvariantCulture), "Corefile cache capacities");
        return translator;
    }

    public Dictionary<OptionSpec, RawValue> Values => _values.ToDictionary(v => v.Key, v => new RawValue(v.Value.Values, v.Value.Source));

    private void TranslateBlock(CorefileServerBlock block)
    {
        var zones = new List<string>();
        int port = _defaultPort;
        foreach (string key in block.Keys)
        {
            string text = key.StartsWith("dns://", StringComparison.Ordinal) ? key[6..] : key;
            if (text.Contains("://", StringComparison.Ordinal))
            {
                throw new CorefileException($"{block.Position}: server '{key}': only plain DNS (dns://) is supported");
            }

            int colon = text.LastIndexOf(':');
            if (colon >= 0)
            {
                port = int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is > 0 and <= 65535
                    ? p
                    : throw new CorefileException($"{block.Position}: server '{key}': bad port");
                text = text[..colon];
            }

            zones.Add(text is "" or "." ? "." : text.TrimEnd('.'));
        }

        List<string> bindAddresses = ["0.0.0.0"];
        bool sawCache = false;
        foreach (CorefileDirective directive in block.Directives)
        {
            string source = $"{directive.Position} {directive.Name}";
            switch (directive.Name)
            {
                case "bind":
                    bindAddresses = [.. directive.Arguments];
                    if (bindAddresses.Count == 0)
                    {
                        throw new CorefileException($"{directive.Position}: bind needs at least one address");
                    }

                    break;
                case "forward":
                    Forward(directive, zones, source);
                    break;
                case "cache":
                    Cache(directive, zones, source);
                    sawCache = true;
                    break;
                case "prometheus":
                    Set(OptionCatalog.Metrics, Address(directive.Arguments.FirstOrDefault() ?? "localhost:9153", directive), source);
                    break;
                case "health":
                    Add(OptionCatalog.HttpListen, Address(directive.Arguments.FirstOrDefault() ?? ":8080", directive), source);
                    foreach (CorefileDirective option in directive.Block)
                    {
                        if (option.Name == "lameduck" && option.Arguments.Count == 1)
                        {
                            Set(OptionCatalog.Lameduck, option.Arguments[0], $"{option.Position} lameduck");
                        }
                        else
                        {
                            throw Unsupported(option, "health");
                        }
                    }

                    break;
                case "ready":
                    Add(OptionCatalog.HttpListen, Address(directive.Arguments.FirstOrDefault() ?? ":8181", directive), source);
                    break;
                case var name when ImplicitDirectives.Contains(name):
                    break;
                case var name when IgnoredDirectives.Contains(name):
                    _warn($"{directive.Position}: directive '{name}' is ignored by NodeDns");
                    break;
                default:
                    throw Unsupported(directive, null);
            }
        }

        if (!sawCache)
        {
            foreach (string zone in zones)
            {
                Add(OptionCatalog.ZoneTtl, $"{zone}=0:0:0", $"{block.Position} (no cache directive)");
            }
        }

        foreach (string address in bindAddresses)
        {
            string endpoint = Endpoint(address, port);
            ValueParsers.ParseEndPoint(endpoint, null, $"Corefile {block.Position} bind");
            Add(OptionCatalog.Listen, endpoint, $"{block.Position} bind");
        }
    }

    private void Forward(CorefileDirective directive, List<string> zones, string source)
    {
        if (directive.Arguments.Count < 2)
        {
            throw new CorefileException($"{directive.Position}: forward needs FROM and at least one TO");
        }

        string from = directive.Arguments[0].TrimEnd('.');
        string transport = "";
        foreach (CorefileDirective option in directive.Block)
        {
            string optionSource = $"{option.Position} forward {option.Name}";
            switch (option.Name)
            {
                case "force_tcp":
                    transport = "/tcp";
                    break;
                case "prefer_udp":
                    transport = "";
                    break;
                case "policy":
                    Set(OptionCatalog.Policy, option.Arguments.FirstOrDefault() ?? "", optionSource);
                    break;
                case "max_fails":
                    Set(OptionCatalog.MaxFails, option.Arguments.FirstOrDefault() ?? "", optionSource);
                    break;
                case "health_check":
                    Set(OptionCatalog.HealthCheck, option.Arguments.FirstOrDefault() ?? "", optionSource);
                    break;
                case "max_concurrent":
                    Set(OptionCatalog.MaxInFlight, option.Arguments.FirstOrDefault() ?? "", optionSource);
                    break;
                case "expire":
                    _warn($"{option.Position}: forward expire is ignored: NodeDns opens a fresh socket per UDP query and keeps TCP connections while in use");
                    break;
                default:
                    throw Unsupported(option, "forward");
            }
        }

        IEnumerable<string> targetZones = from is "" or "." ? zones : [from];
        foreach (string zone in targetZones)
        {
            foreach (string to in directive.Arguments.Skip(1))
            {
                string server = to.StartsWith("dns://", StringComparison.Ordinal) ? to[6..]
                    : to.Contains("://", StringComparison.Ordinal) ? throw new CorefileException($"{directive.Position}: forward to '{to}': only plain DNS is supported")
                    : to;
                string upstream = $"{(zone == "." ? "" : zone + "=")}{server}{transport}";
                ValueParsers.ParseUpstream(upstream, "Corefile " + source); // fails here, naming this position
                Add(OptionCatalog.Upstream, upstream, source);
            }
        }
    }

    private void Cache(CorefileDirective directive, List<string> zones, string source)
    {
        uint max = 3600;
        uint negativeMax = 1800;
        uint min = 5;
        int positiveCapacity = 9984;
        int negativeCapacity = 9984;
        List<string> cacheZones = zones;
        if (directive.Arguments.Count > 0)
        {
            max = negativeMax = Seconds(directive.Arguments[0], directive);
            if (directive.Arguments.Count > 1)
            {
                cacheZones = [.. directive.Arguments.Skip(1).Select(z => z.TrimEnd('.') is "" ? "." : z.TrimEnd('.'))];
            }
        }

        foreach (CorefileDirective option in directive.Block)
        {
            IReadOnlyList<string> a = option.Arguments;
            string optionSource = $"{option.Position} cache {option.Name}";
            switch (option.Name)
            {
                case "success" when a.Count >= 1:
                    positiveCapacity = Count(a[0], option);
                    max = a.Count > 1 ? Seconds(a[1], option) : max;
                    min = a.Count > 2 ? Seconds(a[2], option) : min;
                    break;
                case "denial" when a.Count >= 1:
                    negativeCapacity = Count(a[0], option);
                    negativeMax = a.Count > 1 ? Seconds(a[1], option) : negativeMax;
                    break;
                case "prefetch" when a.Count >= 1:
                    Set(OptionCatalog.PrefetchHits, a[0], optionSource);
                    if (a.Count > 1)
                    {
                        Set(OptionCatalog.PrefetchWindow, a[1], optionSource);
                    }

                    if (a.Count > 2)
                    {
                        Set(OptionCatalog.PrefetchPercent, a[2].TrimEnd('%'), optionSource);
                    }

                    break;
                case "serve_stale":
                    Set(OptionCatalog.ServeStale, a.Count > 0 ? a[0] : "1h", optionSource);
                    break;
                case "serve_stale_policy" when a is ["prefer_positive"]:
                    Set(OptionCatalog.ServeStalePreferPositive, "true", optionSource);
                    break;
                case "servfail" when a.Count == 1:
                    Set(OptionCatalog.FailureMaxTtl, a[0], optionSource);
                    break;
                case "disable" when a.Count >= 1 && a[0] is "success" or "denial":
                    if (a[0] == "success")
                    {
                        max = 0;
                        min = 0;
                    }
                    else
                    {
                        negativeMax = 0;
                    }

                    break;
                default:
                    throw Unsupported(option, "cache");
            }
        }

        _positiveCapacity += positiveCapacity;
        _negativeCapacity += negativeCapacity;
        foreach (string zone in cacheZones)
        {
            Add(OptionCatalog.ZoneTtl, $"{zone}={Math.Min(min, max)}:{max}:{negativeMax}", source);
        }
    }

    private static string Address(string text, CorefileDirective directive)
    {
        string value = text.StartsWith(':') ? "0.0.0.0" + text : text;
        return value.StartsWith("localhost:", StringComparison.Ordinal) ? "127.0.0.1" + value[9..] : value.Contains(':', StringComparison.Ordinal)
            ? value
            : throw new CorefileException($"{directive.Position}: {directive.Name} address '{text}' needs a port");
    }

    private static string Endpoint(string address, int port) =>
        address.Contains(':', StringComparison.Ordinal) ? $"[{address.Trim('[', ']')}]:{port}" : $"{address}:{port}";

    private static uint Seconds(string text, CorefileDirective directive) =>
        uint.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out uint seconds) && seconds > 0
            ? seconds
            : ValueParsers.ParseDuration(text) is { } d && d > TimeSpan.Zero
                ? (uint)d.TotalSeconds
                : throw new CorefileException($"{directive.Position}: {directive.Name}: '{text}' is not a TTL");

    private static int Count(string text, CorefileDirective directive) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int count) && count > 0
            ? count
            : throw new CorefileException($"{directive.Position}: {directive.Name}: '{text}' is not a capacity");

    private static CorefileException Unsupported(CorefileDirective directive, string? parent) =>
        new($"{directive.Position}: {(parent is null ? "directive" : parent + " option")} '{directive.Name}"
            + $"{(directive.Arguments.Count > 0 ? " " + string.Join(' ', directive.Arguments) : "")}' is not supported by NodeDns");

    private void Set(OptionSpec option, string value, string source) => _values[option] = ([value], "Corefile " + source);

    private void Add(OptionSpec option, string value, string source)
    {
        if (!_values.TryGetValue(option, out (List<string> Values, string Source) entry))
        {
            _values[option] = entry = ([], "Corefile " + source);
        }

        if (!entry.Values.Contains(value))
        {
            entry.Values.Add(value);
        }
    }
}
