using NodeDns.Daemon.Cli;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Core.Tests.Cli;

/// <summary>One argument grammar for every verb: --opt value and --opt=value, switches, positionals.</summary>
public class VerbArgumentsTests
{
    [Theory]
    [InlineData("--server", "127.0.0.1:5353")]
    [InlineData("--server=127.0.0.1:5353")]
    public void Both_forms_give_a_value(params string[] args)
    {
        VerbArguments parsed = VerbArguments.Parse("query", ["example.com", .. args, "AAAA"], ["--server"], ["--tcp"], maxPositional: 2);
        Assert.Equal("127.0.0.1:5353", parsed.Get("--server"));
        Assert.Equal(["example.com", "AAAA"], parsed.Positional);
    }

    [Fact]
    public void Switches_take_no_value_or_an_explicit_one()
    {
        Assert.True(VerbArguments.Parse("init", ["--dry-run"], [], ["--dry-run"]).IsOn("--dry-run"));
        Assert.False(VerbArguments.Parse("init", ["--dry-run=false"], [], ["--dry-run"]).IsOn("--dry-run"));
        Assert.False(VerbArguments.Parse("init", [], [], ["--dry-run"]).IsOn("--dry-run"));
        Assert.Throws<ConfigurationException>(() => VerbArguments.Parse("init", ["--dry-run=maybe"], [], ["--dry-run"]).IsOn("--dry-run"));
    }

    [Fact]
    public void Repeatable_options_add_up_and_others_keep_the_last_value()
    {
        VerbArguments parsed = VerbArguments.Parse("x", ["--a", "1", "--a=2", "--b", "1", "--b", "2"], ["--a", "--b"], [], repeatable: ["--a"]);
        Assert.Equal("2", parsed.Get("--b"));
        Dictionary<OptionSpec, List<string>> serve = VerbArguments.ParseServeOptions("serve", ["--listen=127.0.0.1:1", "--listen", "127.0.0.1:2", "--cache-size=5"],
            OptionCatalog.All);
        Assert.Equal(["127.0.0.1:1", "127.0.0.1:2"], serve[OptionCatalog.Listen]);
        Assert.Equal(["5"], serve[OptionCatalog.CacheSize]);
    }

    [Theory]
    [InlineData("unknown option '--nope'", "--nope")]
    [InlineData("--server: missing value", "--server")]
    [InlineData("--server: missing value", "--server", "--tcp")]
    [InlineData("unexpected argument 'three'", "one", "two", "three")]
    public void Mistakes_are_named(string message, params string[] args)
    {
        ConfigurationException e = Assert.Throws<ConfigurationException>(() => VerbArguments.Parse("query", args, ["--server"], ["--tcp"], maxPositional: 2));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
