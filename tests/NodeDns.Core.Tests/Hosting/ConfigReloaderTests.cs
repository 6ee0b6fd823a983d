using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NodeDns.Caching;
using NodeDns.Core.Tests.Configuration;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Hosting;
using NodeDns.Daemon.Operations;
using NodeDns.EndToEnd.Support;
using NodeDns.Forwarding;
using NodeDns.Serving;

namespace NodeDns.Core.Tests.Hosting;

/// <summary>A reload in process, against the real components: what it says it applied is what they now do.</summary>
public sealed class ConfigReloaderTests : IDisposable
{
    private static readonly string Listen = $"127.0.0.1:{Ports.Free()}";
    private readonly BoundListeners _listeners;
    private readonly DaemonSettings _running = OptionSamples.Load(
        ["--listen", Listen, "--metrics", "off", "--udp-sockets", "1", "--upstream", "127.0.0.1:5301", "--allow", "127.0.0.0/8", "--tcp-per-client", "3"]);

    public ConfigReloaderTests() => _listeners = BoundListeners.Bind(_running);

    [Fact]
    public async Task A_reload_applies_the_runtime_options_keeps_upstream_health_and_keeps_restart_options()
    {
        DaemonSettings changed = OptionSamples.Load(
            ["--listen", Listen, "--metrics", "off", "--udp-sockets", "2", "--upstream", "127.0.0.1:5301", "--upstream", "127.0.0.1:5302",
             "--allow", "10.0.0.0/8", "--tcp-per-client", "9", "--health-check", "2s", "--client-miss-rate", "7", "--max-inflight", "33",
             "--cache-size", "77", "--log-level", "debug"]);
        var time = TimeProvider.System;
        var state = new ServingState(_running);
        var cache = new DnsCache(_running.Cache, time);
        var clients = new ClientPolicy(_running.Clients, time);
        var forwarder = new Forwarder(_running.Forwarder, time, new NetworkTransport(new ForwarderCounters()), new ForwarderCounters());
        var pipeline = new QueryPipeline(cache, () => state.Router, forwarder, time, _running.Pipeline, clients: clients);
        var logLevel = new LogLevelSwitch(LogLevel.Information);
        var metrics = new DnsMetrics();
        Upstream kept = state.Router.Route([0]).Pool.Upstreams.Single();
        kept.RecordFailure();

        using var reloader = new ConfigReloader(() => changed, state, cache, pipeline, clients, forwarder, _listeners, logLevel, metrics, time,
            NullLogger<ConfigReloader>.Instance);
        await reloader.StartAsync(CancellationToken.None);
        reloader.Request();
        for (int i = 0; i < 200 && metrics.Reloads.WithLabels("partial").Value == 0; i++)
        {
            await Task.Delay(20);
        }

        await reloader.StopAsync(CancellationToken.None);
        Assert.Equal(1, metrics.Reloads.WithLabels("partial").Value);

        Assert.False(clients.IsAllowed(ClientAddress.From(IPAddress.Loopback)));
        Assert.True(clients.IsAllowed(ClientAddress.From(IPAddress.Parse("10.1.2.3"))));
        Assert.Equal(7, clients.Options.MissesPerSecond);
        Assert.Equal(9, _listeners.Tcp[0].Options.MaxConnectionsPerClient);
        Assert.Equal(TimeSpan.FromSeconds(2), forwarder.Options.HealthCheckInterval);
        Assert.Equal(33, pipeline.Options.MaxInFlight);
        Assert.Equal(77, cache.Options.PositiveEntries);
        Assert.Equal(LogLevel.Debug, logLevel.Level);

        IReadOnlyList<Upstream> upstreams = state.Router.Route([0]).Pool.Upstreams;
        Assert.Same(kept, upstreams.Single(u => u.Server.EndPoint.Port == 5301));
        Assert.Equal(2, upstreams.Count);

        Assert.Equal(1, state.Settings.UdpSockets); // needs a restart: the running value is kept
        Assert.Equal(1, metrics.RestartPending.WithLabels("udp-sockets").Value);
        Assert.Equal(0, metrics.RestartPending.WithLabels("allow").Value);
    }

    public void Dispose() => _listeners.Dispose();
}
