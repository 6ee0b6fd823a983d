using System.Net;
using System.Net.Sockets;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>The command-line contract: exit codes, messages, signals, health endpoints.</summary>
public sealed class LifecycleTests
{
    [Theory]
    [InlineData(new[] { "--listen", "300.1.1.1:53", "--upstream", "127.0.0.1" }, "--listen: invalid value '300.1.1.1:53'")]
    [InlineData(new[] { "--listen", "127.0.0.1:99999", "--upstream", "127.0.0.1" }, "--listen: invalid value '127.0.0.1:99999'")]
    [InlineData(new[] { "--upstream", "127.0.0.1", "--no-such-option" }, "unknown option '--no-such-option'")]
    [InlineData(new[] { "--config", "/nonexistent/nodedns.json" }, "--config: cannot read '/nonexistent/nodedns.json'")]
    [InlineData(new[] { "--upstream", "127.0.0.1", "--cache-size", "lots" }, "--cache-size: invalid value 'lots'")]
    public async Task Bad_values_exit_2_with_one_line_naming_option_and_value(string[] args, string expected)
    {
        ToolResult result = await NodeDnsProcess.RunToExitAsync(args);
        Assert.Equal(2, result.ExitCode);
        string line = Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_environment_value_exits_2_naming_the_variable()
    {
        ToolResult result = await NodeDnsProcess.RunToExitAsync(["--upstream", "127.0.0.1"],
            new Dictionary<string, string> { ["NODEDNS_METRICS"] = "nowhere" });
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("NODEDNS_METRICS: invalid value 'nowhere'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Address_in_use_exits_1_with_the_address_and_the_os_error()
    {
        using var squatter = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        squatter.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        string address = squatter.LocalEndPoint!.ToString()!;

        ToolResult result = await NodeDnsProcess.RunToExitAsync(["--listen", address, "--upstream", "127.0.0.1", "--metrics", "off"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot bind udp {address}", result.Error, StringComparison.Ordinal);
        Assert.Contains("AddressAlreadyInUse", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(15)] // SIGTERM
    [InlineData(2)] // SIGINT
    public async Task Signal_stops_cleanly_with_exit_0(int signal)
    {
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", "127.0.0.1:9");
        daemon.Signal(signal);
        Assert.True(await daemon.WaitForExitAsync(TimeSpan.FromSeconds(10)), "did not exit after the signal");
        Assert.Equal(0, daemon.ExitCode);
    }

    [Fact]
    public async Task Health_ready_and_metrics_are_served()
    {
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", "127.0.0.1:9");
        Assert.Equal("OK\n", await daemon.ScrapeAsync("/health"));
        Assert.Equal("ready\n", await daemon.ScrapeAsync("/ready"));
        await daemon.Client().QueryAsync("x.example", DnsClient.QueryType.A);
        string metrics = await daemon.ScrapeAsync();
        string server = $"server=dns://{daemon.EndPoint}";
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_requests_total", server, "zone=.", "proto=udp", "family=1", "type=A"));
        Assert.Equal(1, MetricsText.Value(metrics, "coredns_dns_responses_total", server, "zone=.", "rcode=SERVFAIL", "plugin=forward"));
    }
}
