using NodeDns.Daemon.Configuration;
using NodeDns.Forwarding;

namespace NodeDns.Core.Tests.Configuration;

public class RouteTableTests
{
    [Fact]
    public void A_rebuild_keeps_the_health_of_upstreams_that_stay_and_retires_the_others()
    {
        DaemonSettings before = OptionSamples.Load(["--upstream", "127.0.0.1:5301", "--upstream", "127.0.0.1:5302", "--max-fails", "1"]);
        ZoneRouter first = RouteTable.Build(before);
        Upstream stays = first.Route([0]).Pool.Upstreams.Single(u => u.Server.EndPoint.Port == 5301);
        Upstream goes = first.Route([0]).Pool.Upstreams.Single(u => u.Server.EndPoint.Port == 5302);
        stays.RecordFailure();
        Assert.True(stays.IsDown);

        DaemonSettings after = OptionSamples.Load(["--upstream", "127.0.0.1:5301", "--upstream", "127.0.0.1:5303", "--max-fails", "3"]);
        ZoneRouter second = RouteTable.Build(after, first);

        Upstream kept = second.Route([0]).Pool.Upstreams.Single(u => u.Server.EndPoint.Port == 5301);
        Assert.Same(stays, kept);
        Assert.Equal(3, kept.MaxFails);
        Assert.False(kept.IsRetired);
        Assert.True(goes.IsRetired);
        Assert.False(second.Route([0]).Pool.Upstreams.Single(u => u.Server.EndPoint.Port == 5303).IsRetired);
    }

    [Fact]
    public void The_same_server_for_another_zone_or_transport_is_another_upstream()
    {
        ZoneRouter first = RouteTable.Build(OptionSamples.Load(["--upstream", "127.0.0.1:5301"]));
        Upstream root = first.Route([0]).Pool.Upstreams[0];
        ZoneRouter second = RouteTable.Build(OptionSamples.Load(["--upstream", "127.0.0.1:5301/tcp"]), first);

        Assert.NotSame(root, second.Route([0]).Pool.Upstreams[0]);
        Assert.True(root.IsRetired);
    }
}
