using System.Net;
using Microsoft.Extensions.Time.Testing;
using NodeDns.Serving;

namespace NodeDns.Core.Tests;

public class ClientPolicyTests
{
    private static ClientAddress Address(string ip) => ClientAddress.From(IPAddress.Parse(ip));

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("::1", true)]
    [InlineData("169.254.20.10", true)]
    [InlineData("10.244.3.7", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.1.1", true)]
    [InlineData("fd00::5", true)]
    [InlineData("fe80::1", true)]
    [InlineData("8.8.8.8", false)]
    [InlineData("2001:db8::1", false)]
    [InlineData("::ffff:8.8.8.8", false)]
    public void Default_allow_list_is_loopback_link_local_and_private(string ip, bool allowed) =>
        Assert.Equal(allowed, new ClientPolicy(new ClientPolicyOptions(), TimeProvider.System).IsAllowed(Address(ip)));

    [Fact]
    public void Prefixes_parse_and_match()
    {
        Assert.True(AddressPrefix.TryParse("100.64.0.0/10", out AddressPrefix cgnat));
        Assert.True(cgnat.Contains(Address("100.127.255.254")));
        Assert.False(cgnat.Contains(Address("100.128.0.1")));
        Assert.True(AddressPrefix.TryParse("0.0.0.0/0", out AddressPrefix allV4));
        Assert.True(allV4.Contains(Address("203.0.113.9")));
        Assert.False(allV4.Contains(Address("2001:db8::1")));
        Assert.True(AddressPrefix.TryParse("2001:db8::1", out AddressPrefix single));
        Assert.True(single.Contains(Address("2001:db8::1")));
        Assert.False(AddressPrefix.TryParse("10.0.0.0/33", out _));
        Assert.False(AddressPrefix.TryParse("nonsense", out _));
    }

    [Fact]
    public void The_miss_bucket_refills_with_time_and_never_limits_loopback()
    {
        var time = new FakeTimeProvider();
        var policy = new ClientPolicy(new ClientPolicyOptions { MissesPerSecond = 2, MissBurst = 3 }, time);
        ClientAddress pod = Address("10.244.1.5");
        Assert.True(policy.TryTakeMiss(pod));
        Assert.True(policy.TryTakeMiss(pod));
        Assert.True(policy.TryTakeMiss(pod));
        Assert.False(policy.TryTakeMiss(pod));
        Assert.True(policy.TryTakeMiss(Address("10.244.1.6"))); // another pod has its own bucket
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.True(policy.TryTakeMiss(pod));
        Assert.False(policy.TryTakeMiss(pod));
        Assert.Equal(2, policy.RateLimited);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(policy.TryTakeMiss(Address("127.0.0.1")));
        }
    }

    [Fact]
    public void Reconfigure_applies_a_new_allow_list_and_rate_at_once()
    {
        var time = new FakeTimeProvider();
        var policy = new ClientPolicy(new ClientPolicyOptions { MissesPerSecond = 0 }, time);
        ClientAddress pod = Address("10.244.1.5");
        Assert.True(policy.IsAllowed(pod));
        Assert.True(policy.TryTakeMiss(pod));

        Assert.True(AddressPrefix.TryParse("192.168.0.0/16", out AddressPrefix narrow));
        policy.Reconfigure(new ClientPolicyOptions { Allowed = [narrow], MissesPerSecond = 1, MissBurst = 1 });

        Assert.False(policy.IsAllowed(pod));
        Assert.True(policy.IsAllowed(Address("192.168.3.4")));
        ClientAddress other = Address("192.168.3.4");
        Assert.True(policy.TryTakeMiss(other));
        Assert.False(policy.TryTakeMiss(other));
    }

    [Theory]
    [InlineData("10.0.0.0/8")]
    [InlineData("100.64.0.0/10")]
    [InlineData("0.0.0.0/0")]
    [InlineData("fc00::/7")]
    [InlineData("::/0")]
    [InlineData("192.0.2.7/32")]
    public void A_prefix_is_written_as_it_is_read(string text)
    {
        Assert.True(AddressPrefix.TryParse(text, out AddressPrefix prefix));
        Assert.Equal(text, prefix.ToString());
    }
}
