using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// The one argument grammar of every verb: <c>--name value</c> and <c>--name=value</c> for options with a value,
/// <c>--name</c> (or <c>--name=true|false</c>) for switches, and positional arguments where a verb takes them.
/// An option given twice keeps its last value unless it is repeatable. node-cache's Go flags are their own grammar
/// (<see cref="Compatibility.NodeCacheCommandLine"/>).
/// </summary>
public sealed class VerbArguments
{
    private readonly Dictionary<string, List<string>> _values = [];
    private readonly List<string> _positional = [];

    private VerbArguments(string verb) => Verb = verb;

    public string Verb { get; }
    public IReadOnlyList<string> Positional => _positional;

    /// <param name="valued">Options that take a value (with their leading dashes).</param>
    /// <param name="switches">Options that take none.</param>
    /// <param name="repeatable">Valued options whose values add up rather than replace each other.</param>
    /// <param name="maxPositional">How many positional arguments the verb takes.</param>
    public static VerbArguments Parse(string verb, IReadOnlyList<string> args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> switches,
        IReadOnlyCollection<string>? repeatable = null, int maxPositional = 0)
    {
        var parsed = new VerbArguments(verb);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg == "--")
            {
                if (parsed._positional.Count == maxPositional)
                {
                    throw new ConfigurationException($"{verb}: unexpected argument '{arg}'");
                }

                parsed._positional.Add(arg);
                continue;
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals >= 0 ? arg[..equals] : arg;
            string? value = equals >= 0 ? arg[(equals + 1)..] : null;
            if (switches.Contains(name))
            {
                value ??= "true";
            }
            else if (valued.Contains(name))
            {
                if (value is null)
                {
                    value = i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)
                        ? args[++i]
                        : throw new ConfigurationException($"{name}: missing value");
                }
            }
            else
            {
                throw new ConfigurationException($"{verb}: unknown option '{name}'");
            }

            if (!parsed._values.TryGetValue(name, out List<string>? values) || repeatable?.Contains(name) != true)
            {
                parsed._values[name] = values = [];
            }

            values.Add(value);
        }

        return parsed;
    }

    /// <summary>The options of <c>nodedns serve</c>, each as declared in <see cref="OptionCatalog"/>.</summary>
    public static Dictionary<OptionSpec, List<string>> ParseServeOptions(string verb, IReadOnlyList<string> args, IReadOnlyList<OptionSpec> accepted)
    {
        VerbArguments parsed = Parse(verb, args,
            [.. accepted.Where(o => !o.IsSwitch).Select(o => o.Flag)],
            [.. accepted.Where(o => o.IsSwitch).Select(o => o.Flag)],
            [.. accepted.Where(o => o.Repeatable).Select(o => o.Flag)]);
        return accepted.Where(o => parsed._values.ContainsKey(o.Flag)).ToDictionary(o => o, o => parsed._values[o.Flag]);
    }

    public bool Has(string name) => _values.ContainsKey(name);

    /// <summary>A switch: false when absent; true or false as given.</summary>
    public bool IsOn(string name) =>
        Get(name) is { } value && ValueParsers.Switch(new RawValue([value], name));

    public string? Get(string name) => _values.GetValueOrDefault(name)?[^1];

    public string Require(string name) => Get(name) ?? throw new ConfigurationException($"{Verb}: {name} is required");
}
