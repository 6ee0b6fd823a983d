using System.Text;
using NodeDns.Daemon.Cli;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Core.Tests.Configuration;

/// <summary>
/// The option registry is the one place options are declared: help, README, environment, JSON config, parser and
/// reloader all read it. These tests hold them together.
/// </summary>
public class OptionRegistryTests
{
    private static IEnumerable<OptionSpec> Settable => OptionCatalog.All.Where(o => o != OptionCatalog.Config);

    private static readonly string[] RootUpstream = OptionSamples.RootUpstream;

    private static readonly Dictionary<string, string> Samples = OptionSamples.Values;

    private static DaemonSettings Load(IEnumerable<string> args, Dictionary<string, string?>? environment = null) => OptionSamples.Load(args, environment);

    private static string[] Context(OptionSpec option) => OptionSamples.Context(option);

    private static string[] Given(OptionSpec option, string value) => OptionSamples.Given(option, value);

    [Fact]
    public void Every_option_has_a_sample_and_names_that_follow_the_rules()
    {
        Assert.Equal(Settable.Select(o => o.Name).Order(), Samples.Keys.Order());
        foreach (OptionSpec option in OptionCatalog.All)
        {
            Assert.Matches("^[a-z][a-z0-9-]*$", option.Name);
            Assert.Equal("NODEDNS_" + option.Name.Replace('-', '_').ToUpperInvariant(), option.EnvironmentVariable);
            Assert.Equal(string.Concat(option.Name.Split('-').Select((part, i) => i == 0 ? part : char.ToUpperInvariant(part[0]) + part[1..])), option.JsonKey);
        }

        Assert.Equal(OptionCatalog.All.Count, OptionCatalog.All.Select(o => o.Name).Distinct().Count());
    }

    [Fact]
    public void Help_lists_every_option_with_its_default_variable_key_and_reload_behaviour()
    {
        string help = CommandLine.Usage();
        foreach (OptionSpec option in OptionCatalog.All)
        {
            string line = help.Split('\n').Single(l => l.TrimStart().StartsWith(option.Flag + " ", StringComparison.Ordinal));
            Assert.Contains($"(default: {option.Default}", line, StringComparison.Ordinal);
            Assert.Equal(option.Reload == ReloadBehaviour.NeedsRestart, line.Contains("a change needs a restart", StringComparison.Ordinal));
            Assert.Contains($"env {option.EnvironmentVariable}, config key \"{option.JsonKey}\"", help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Giving_an_option_its_documented_default_changes_nothing()
    {
        foreach (OptionSpec option in Settable.Where(o => o.DefaultDescription is null && o != OptionCatalog.Upstream))
        {
            DaemonSettings baseline = Load(Context(option));
            DaemonSettings given = Load(Given(option, option.Default));
            foreach (OptionSpec other in OptionCatalog.All)
            {
                Assert.True(other.Show(baseline) == other.Show(given), $"{option.Flag} {option.Default} changed {other.Flag}: {other.Show(baseline)} -> {other.Show(given)}");
            }
        }
    }

    [Fact]
    public void A_value_reads_the_same_from_command_line_environment_and_config_file_and_is_shown_as_it_reads()
    {
        foreach (OptionSpec option in Settable)
        {
            string sample = Samples[option.Name];
            string fromCommandLine = option.Show(Load(Given(option, sample)));
            Assert.NotEqual(option.Show(Load(Context(option))), fromCommandLine);

            string fromEnvironment = option.Show(Load(Context(option), new() { [option.EnvironmentVariable] = sample }));
            string file = Path.GetTempFileName();
            try
            {
                File.WriteAllText(file, $"{{ \"{option.JsonKey}\": \"{sample}\" }}");
                string fromFile = option.Show(Load(["--config", file, .. Context(option)]));
                Assert.Equal(fromCommandLine, fromEnvironment);
                Assert.Equal(fromCommandLine, fromFile);
            }
            finally
            {
                File.Delete(file);
            }

            Assert.Equal(fromCommandLine, option.Show(Load(Given(option, fromCommandLine))));
        }
    }

    [Fact]
    public void The_readme_table_is_the_registry()
    {
        string readme = File.ReadAllText(Path.Combine(RepositoryRoot(), "README.md"));
        const string Begin = "<!-- options: generated from OptionCatalog, checked by OptionRegistryTests -->";
        const string End = "<!-- options: end -->";
        int start = readme.IndexOf(Begin, StringComparison.Ordinal);
        int end = readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md lacks the option table markers");
        string actual = readme[(start + Begin.Length)..end].Trim();
        string expected = Table();
        Assert.True(expected == actual, $"README.md's option table differs from the registry; it should read:\n{expected}");
    }

    private static string Table()
    {
        var table = new StringBuilder("| option | default | on reload | meaning |\n|---|---|---|---|\n");
        foreach (OptionSpec option in OptionCatalog.All)
        {
            string reload = option.Reload == ReloadBehaviour.Applied ? "applied" : "restart";
            table.Append($"| `{option.Flag}` | {Escape(option.Default)} | {reload} | {Escape(option.Help)} |\n");
        }

        return table.ToString().Trim();
    }

    private static string Escape(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeDns.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("NodeDns.sln not found");
    }
}
