using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// <c>nodedns check-config FILE [--show] [SERVE OPTIONS...]</c>: validates a config file, with the options of
/// <c>nodedns serve</c> given after it, without starting (exit 0 valid, 2 invalid). With --show it also prints the
/// effective value of every option, one <c>--option=value</c> per line: what serve would run with (environment aside).
/// </summary>
public static class CheckConfigCommand
{
    private const string Usage = "check-config: usage: nodedns check-config FILE [--show] [SERVE OPTIONS...]";

    public static int Run(IReadOnlyList<string> args, TextWriter output)
    {
        List<string> rest = [.. args];
        bool show = rest.Remove("--show");
        if (rest.Count == 0 || rest[0].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ConfigurationException(Usage);
        }

        string file = rest[0];
        Dictionary<OptionSpec, List<string>> options = VerbArguments.ParseServeOptions("check-config", rest[1..], OptionCatalog.All);
        if (options.ContainsKey(OptionCatalog.Config))
        {
            throw new ConfigurationException(Usage);
        }

        options[OptionCatalog.Config] = [file];
        DaemonSettings settings = SettingsParser.Parse(RawSettings.Merge(options, new Dictionary<string, string?>()));
        output.WriteLine($"{file}: valid; listens on {string.Join(", ", settings.Listen)}, "
            + $"{settings.Upstreams.Count} upstreams in {settings.Upstreams.Select(u => Convert.ToHexString(u.Zone)).Distinct().Count()} zones");
        if (show)
        {
            foreach (OptionSpec option in OptionCatalog.All.Where(o => o != OptionCatalog.Config))
            {
                output.WriteLine($"{option.Flag}={option.Show(settings)}");
            }
        }

        return 0;
    }
}
