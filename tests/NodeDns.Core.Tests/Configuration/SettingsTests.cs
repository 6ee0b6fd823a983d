using System.Net;
using NodeDns.Daemon.Cli;
using NodeDns.Daemon.Configuration;
using NodeDns.Forwarding;

namespace NodeDns.Core.Tests;

public class SettingsTests
{
    private static DaemonSettings Load(string[] args, Dictionary<string, string?>? environment = null) =>
        SettingsParser.Parse(RawSettings.Merge(CommandLine.Parse(args).Options, environment ?? []), "/nonexistent/resolv.conf");

    [Fact]
    public void Upstreams_parse_zone_port_and_transport()
    {
        DaemonSettings settings = Load(["--upstream", "127.0.0.1:5300", "--upstream", "Cluster.Local=10.96.0.10/tcp", "--upstream", "[::1]:53/udp"]);
        Assert.Equal(3, settings.Upstreams.Count);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.0.0.1"), 5300), settings.Upstreams[0].Server.EndPoint);
        Assert.Equal(Wire.Name("cluster.local"), settings.Upstreams[1].Zone);
        Assert.Equal(UpstreamTransport.Tcp, settings.Upstreams[1].Server.Transport);
        Assert.Equal(53, settings.Upstreams[1].Server.EndPoint.Port);
        Assert.Equal(UpstreamTransport.UdpOnly, settings.Upstreams[2].Server.Transport);
    }

    [Fact]
    public void Command_line_beats_environment_beats_file()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, """{ "listen": ["127.0.0.1:1000"], "cacheSize": 5, "metrics": "127.0.0.1:1001", "upstream": "127.0.0.1:53" }""");
        try
        {
            DaemonSettings settings = Load(["--config", file, "--listen", "127.0.0.1:3000"],
                new() { ["NODEDNS_LISTEN"] = "127.0.0.1:2000", ["NODEDNS_CACHE_SIZE"] = "7" });
            Assert.Equal(3000, Assert.Single(settings.Listen).Port);
            Assert.Equal(7, settings.Cache.PositiveEntries);
            Assert.Equal(1001, settings.Metrics!.Port);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData(new[] { "--listen", "nonsense", "--upstream", "127.0.0.1" }, "--listen: invalid value 'nonsense'")]
    [InlineData(new[] { "--listen", "127.0.0.1:70000", "--upstream", "127.0.0.1" }, "--listen: invalid value '127.0.0.1:70000'")]
    [InlineData(new[] { "--upstream", "127.0.0.1:0" }, "--upstream: invalid value '127.0.0.1:0'")]
    [InlineData(new[] { "--upstream", "bad..zone=127.0.0.1" }, "--upstream: invalid value 'bad..zone=127.0.0.1'")]
    [InlineData(new[] { "--upstream", "127.0.0.1/quic" }, "--upstream: invalid value '127.0.0.1/quic'")]
    [InlineData(new[] { "--upstream", "cluster.local=127.0.0.1" }, "no upstream for the root zone")]
    [InlineData(new[] { "--upstream", "127.0.0.1", "--cache-size", "-1" }, "--cache-size: invalid value '-1'")]
    [InlineData(new[] { "--upstream", "127.0.0.1", "--frobnicate", "1" }, "unknown option '--frobnicate'")]
    [InlineData(new[] { "--upstream", "127.0.0.1", "--policy", "fastest" }, "--policy: invalid value 'fastest'")]
    [InlineData(new[] { "--config", "/nonexistent/nodedns.json" }, "--config: cannot read '/nonexistent/nodedns.json'")]
    [InlineData(new[] { "--listen" }, "--listen: missing value")]
    public void Bad_values_name_the_option_and_the_value(string[] args, string expected)
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(args));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_config_key_is_an_error()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, """{ "upstreams": ["127.0.0.1"] }""");
        try
        {
            var error = Assert.Throws<ConfigurationException>(() => Load(["--config", file]));
            Assert.Contains("unknown key 'upstreams'", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_upstream_can_name_a_resolv_conf_for_a_zone()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, "nameserver 10.0.0.2\nnameserver 10.0.0.3\n");
        try
        {
            DaemonSettings settings = Load(["--upstream", "cluster.local=10.96.0.10/tcp", "--upstream", file + "/tcp"]);
            Assert.Equal(["10.96.0.10:53", "10.0.0.2:53", "10.0.0.3:53"], settings.Upstreams.Select(u => u.Server.EndPoint.ToString()));
            Assert.All(settings.Upstreams.Skip(1), u => Assert.Equal([0], u.Zone));
            Assert.All(settings.Upstreams, u => Assert.Equal(UpstreamTransport.Tcp, u.Server.Transport));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Default_upstreams_come_from_resolv_conf()
    {
        string file = Path.GetTempFileName();
        File.WriteAllText(file, "# comment\nsearch svc.cluster.local\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\noptions ndots:5\n");
        try
        {
            DaemonSettings settings = SettingsParser.Parse(RawSettings.Merge(new Dictionary<OptionSpec, List<string>>(), new Dictionary<string, string?>()), file);
            Assert.Equal(["10.0.0.2:53", "[fe80::1]:53"], settings.Upstreams.Select(u => u.Server.EndPoint.ToString()));
            Assert.Equal(DaemonSettings.DefaultListen, Assert.Single(settings.Listen));
            Assert.Equal(DaemonSettings.Defaults.Metrics, settings.Metrics);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public class RouteTableTests
{
    private static DaemonSettings Load(params string[] args) =>
        SettingsParser.Parse(RawSettings.Merge(CommandLine.Parse(args).Options, new Dictionary<string, string?>()), "/nonexistent");

    [Fact]
    public void Longest_zone_suffix_wins_and_zone_ttls_apply_below_their_zone()
    {
        ZoneRouter router = RouteTable.Build(Load(
            "--upstream", "10.0.0.1", "--upstream", "cluster.local=10.96.0.10/tcp", "--upstream", "cluster.local=10.96.0.11/tcp",
            "--zone-ttl", "cluster.local=5:30:5", "--zone-ttl", "in-addr.arpa=0:60", "--max-ttl", "600"));

        ZoneRoute cluster = router.Route(Wire.Name("Kubernetes.Default.SVC.cluster.local"));
        Assert.Equal(["10.96.0.10:53", "10.96.0.11:53"], cluster.Pool.Servers.Select(s => s.EndPoint.ToString()));
        Assert.Equal(30u, cluster.Ttl.MaxTtl);
        Assert.Equal(5u, cluster.Ttl.NegativeMaxTtl);
        Assert.Equal(5u, cluster.Ttl.MinTtl);

        ZoneRoute reverse = router.Route(Wire.Name("1.0.96.10.in-addr.arpa"));
        Assert.Equal("10.0.0.1:53", Assert.Single(reverse.Pool.Servers).EndPoint.ToString()); // TTL-only zone uses the root's upstreams
        Assert.Equal(60u, reverse.Ttl.MaxTtl);

        ZoneRoute other = router.Route(Wire.Name("example.com"));
        Assert.Equal(600u, other.Ttl.MaxTtl);
        Assert.Same(router.Route(Wire.Name("cluster.local.example.com")), other); // a suffix must end on a label boundary
    }

    [Theory]
    [InlineData("cluster.local=30:5")]
    [InlineData("cluster.local=5")]
    [InlineData("cluster.local=a:b")]
    [InlineData("=5:30")]
    public void Bad_zone_ttls_are_rejected(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => Load("--upstream", "10.0.0.1", "--zone-ttl", value));
        Assert.StartsWith($"--zone-ttl: invalid value '{value}'", error.Message, StringComparison.Ordinal);
    }
}
