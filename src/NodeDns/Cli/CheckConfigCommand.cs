using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary><c>nodedns check-config FILE</c>: validates a config file without starting (exit 0 valid, 2 invalid).</summary>
public static class CheckConfigCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        VerbArguments parsed = VerbArguments.Parse("check-config", args, [], [], maxPositional: 1);
        if (parsed.Positional.Count != 1)
        {
            throw new ConfigurationException("check-config: usage: nodedns check-config FILE");
        }

        string file = parsed.Positional[0];
        var options = new Dictionary<OptionSpec, List<string>> { [OptionCatalog.Config] = [file] };
        DaemonSettings settings = SettingsParser.Parse(RawSettings.Merge(options, new Dictionary<string, string?>()));
        output.WriteLine($"{file}: valid; listens on {string.Join(", ", settings.Listen)}, "
            + $"{settings.Upstreams.Count} upstreams in {settings.Upstreams.Select(u => Convert.ToHexString(u.Zone)).Distinct().Count()} zones");
        return 0;
    }
}
