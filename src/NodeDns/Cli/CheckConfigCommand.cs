using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary><c>nodedns check-config FILE</c>: validates a config file without starting (exit 0 valid, 2 invalid).</summary>
public static class CheckConfigCommand
{
    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        if (args.Count != 1 || args[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ConfigurationException("check-config: usage: nodedns check-config FILE");
        }

        var options = new Dictionary<OptionSpec, List<string>> { [OptionCatalog.Config] = [args[0]] };
        DaemonSettings settings = SettingsParser.Parse(RawSettings.Merge(options, new Dictionary<string, string?>()));
        output.WriteLine($"{args[0]}: valid; listens on {string.Join(", ", settings.Listen)}, "
            + $"{settings.Upstreams.Count} upstreams in {settings.Upstreams.Select(u => Convert.ToHexString(u.Zone)).Distinct().Count()} zones");
        return 0;
    }
}
