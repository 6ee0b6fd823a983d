using NodeDns.Daemon.Configuration;

namespace NodeDns.Core.Tests.Configuration;

/// <summary>A reload applies what the registry says it applies, and never claims the rest.</summary>
public class ReloadPlanTests
{
    [Fact]
    public void Each_changed_option_is_applied_or_named_as_needing_a_restart_as_the_registry_says()
    {
        foreach (OptionSpec option in OptionCatalog.All.Where(o => o != OptionCatalog.Config))
        {
            DaemonSettings running = OptionSamples.Load(OptionSamples.Context(option));
            DaemonSettings loaded = OptionSamples.Load(OptionSamples.Given(option, OptionSamples.Values[option.Name]));
            ReloadPlan plan = ReloadPlan.For(running, loaded);

            if (option.Reload == ReloadBehaviour.Applied)
            {
                Assert.Contains(option, plan.Applied);
                Assert.Equal(option.Show(loaded), option.Show(plan.Effective));
            }
            else
            {
                Assert.Contains(option, plan.NeedRestart);
                Assert.True(option.Show(running) == option.Show(plan.Effective), $"{option.Flag}: the running value must be kept until a restart");
            }
        }
    }

    [Fact]
    public void An_unchanged_configuration_changes_nothing()
    {
        DaemonSettings settings = OptionSamples.Load(OptionSamples.RootUpstream);
        ReloadPlan plan = ReloadPlan.For(settings, OptionSamples.Load(OptionSamples.RootUpstream));
        Assert.Empty(plan.Applied);
        Assert.Empty(plan.NeedRestart);
    }
}
