using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary>The options of a verb other than serve: <c>--name value</c>, <c>--name=value</c> and switches.</summary>
public sealed class VerbArguments
{
    private readonly Dictionary<string, string> _values = [];

    private VerbArguments(string verb) => Verb = verb;

    public string Verb { get; }

    /// <param name="valued">Options that take a value.</param>
    /// <param name="switches">Options that take none.</param>
    public static VerbArguments Parse(string verb, IReadOnlyList<string> args, IReadOnlyCollection<string> valued, IReadOnlyCollection<string> switches)
    {
        var parsed = new VerbArguments(verb);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg.Split('=', 2)[0];
            if (switches.Contains(name) && !arg.Contains('=', StringComparison.Ordinal))
            {
                parsed._values[name] = "true";
            }
            else if (valued.Contains(name))
            {
                parsed._values[name] = arg.Contains('=', StringComparison.Ordinal) ? arg.Split('=', 2)[1]
                    : i + 1 < args.Count ? args[++i] : throw new ConfigurationException($"{name}: missing value");
            }
            else
            {
                throw new ConfigurationException($"{verb}: unknown option '{arg}'");
            }
        }

        return parsed;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string? Get(string name) => _values.GetValueOrDefault(name);

    public string Require(string name) => Get(name) ?? throw new ConfigurationException($"{Verb}: {name} is required");
}
