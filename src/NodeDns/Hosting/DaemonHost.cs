using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;
using NodeDns.Dnstap;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Handoff;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Daemon.Operations;
using NodeDns.Forwarding;
using NodeDns.Serving;

namespace NodeDns.Daemon.Hosting;

/// <summary>Wires the serving core into a generic host: logging, lifetime (SIGTERM/SIGINT), background services.</summary>
public static class DaemonHost
{
    /// <summary>The top view covers the last minute (between 30 and 60 s).</summary>
    private static readonly TimeSpan TopWindow = TimeSpan.FromMinutes(1);

    /// <param name="load">Reads and validates the configuration again (for reloads).</param>
    /// <param name="takeover">What was received from the instance this one replaces, if any.</param>
    /// <param name="instanceLock">The --lock-file, when acquired before start.</param>
    /// <param name="podWatch">Where and for which node to watch pods, or null when the pod watch is off.</param>
    public static async Task<int> RunAsync(DaemonSettings settings, BoundListeners listeners, Func<DaemonSettings> load, Takeover? takeover,
        InstanceLock? instanceLock, PodWatchPlan? podWatch)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "nodedns",
        });
        var logLevel = new LogLevelSwitch(settings.LogLevel);
        ConfigureLogging(builder.Logging, settings.LogFormat, logLevel);
        // A reload may lengthen the lameduck up to its bound, so the host waits for the longest one.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = DaemonSettings.MaxLameduck + TimeSpan.FromSeconds(10));

        DnstapLog? dnstap = settings.Dnstap.Target is null ? null : new DnstapLog(settings.Dnstap.Messages, settings.Dnstap.QueueLength);
        IServiceCollection services = builder.Services;
        services.AddSingleton(logLevel);
        services.AddSingleton(listeners);
        services.AddSingleton(new HandoffState(takeover));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new ServingState(settings));
        services.AddSingleton<DnsMetrics>();
        services.AddSingleton(sp => new DnsCache(settings.Cache, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<UpstreamFailureLog>();
        services.AddSingleton(sp =>
        {
            UpstreamFailureLog failures = sp.GetRequiredService<UpstreamFailureLog>();
            return new ForwarderCounters { ForwardFailed = failures.Report, Dnstap = dnstap };
        });
        services.AddSingleton(sp => new ClientPolicy(settings.Clients, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new NetworkTransport(sp.GetRequiredService<ForwarderCounters>()));
        services.AddSingleton(sp => new Forwarder(settings.Forwarder, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<NetworkTransport>(), sp.GetRequiredService<ForwarderCounters>()));
        if (podWatch is not null)
        {
            services.AddSingleton(sp => new PodSearchPaths(sp.GetRequiredService<NodePods>(), settings.ClusterDomain,
                PodSearchPaths.HostSearch(settings.HostResolvConf)));
            services.AddSingleton(sp => new PodInsight(sp.GetRequiredService<DnsMetrics>(), sp.GetRequiredService<NodePods>(),
                new TopTalkers(sp.GetRequiredService<TimeProvider>(), TopWindow, settings.TopSample), sp.GetRequiredService<PodSearchPaths>()));
        }

        services.AddSingleton(sp => new PrometheusQueryObserver(sp.GetRequiredService<DnsMetrics>(), settings.Listen, sp.GetRequiredService<TimeProvider>(),
            sp.GetService<PodInsight>()));
        services.AddSingleton(sp =>
        {
            ServingState state = sp.GetRequiredService<ServingState>();
            ISearchPaths? searchPaths = podWatch is not null && (settings.Autopath ?? true) ? sp.GetRequiredService<PodSearchPaths>() : null;
            var pipeline = new QueryPipeline(sp.GetRequiredService<DnsCache>(), () => state.Router, sp.GetRequiredService<Forwarder>(),
                sp.GetRequiredService<TimeProvider>(), settings.Pipeline, sp.GetRequiredService<PrometheusQueryObserver>(),
                sp.GetRequiredService<ClientPolicy>(), searchPaths) { Dnstap = dnstap };
            sp.GetRequiredService<DnsMetrics>().PublishBeforeScrape(pipeline, sp.GetRequiredService<DnsCache>(),
                sp.GetRequiredService<ForwarderCounters>(), sp.GetRequiredService<ClientPolicy>(), () => state.Router, "dns://" + settings.Listen[0]);
            return pipeline;
        });
        services.AddSingleton(sp => new ConfigReloader(load, sp.GetRequiredService<ServingState>(), sp.GetRequiredService<DnsCache>(),
            sp.GetRequiredService<QueryPipeline>(), sp.GetRequiredService<ClientPolicy>(), sp.GetRequiredService<Forwarder>(), listeners, logLevel,
            sp.GetRequiredService<DnsMetrics>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ConfigReloader>>()).HandleHangup());
        services.AddSingleton<DnsService>();
        services.AddSingleton(sp => new NodePods(sp.GetRequiredService<TimeProvider>()));
        if (podWatch is not null)
        {
            var podWatchState = new PodWatchState();
            services.AddHostedService(sp =>
            {
                sp.GetRequiredService<DnsMetrics>().PublishPodWatch(sp.GetRequiredService<NodePods>(), podWatchState);
                return new PodWatcher(new KubernetesApi(podWatch.Connection), podWatch.NodeName, sp.GetRequiredService<NodePods>(), podWatchState,
                    new PodWatchTiming(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PodWatcher>>());
            });
        }

        // Hosted services start in this order and stop in reverse: the snapshot is loaded before DNS is served and
        // written after it stopped (after its lameduck); then the node network is torn down; the HTTP endpoint goes
        // last, so that /ready keeps answering 503 and /metrics stays scrapable while DNS drains.
        services.AddHostedService<OperationsService>();
        if (dnstap is not null)
        {
            services.AddHostedService(sp => new DnstapService(dnstap, settings.Dnstap, sp.GetRequiredService<DnsMetrics>(),
                sp.GetRequiredService<ILogger<DnstapService>>()));
        }

        services.AddHostedService<NodeNetworkService>();
        services.AddHostedService<SnapshotService>();
        services.AddHostedService(sp => sp.GetRequiredService<DnsService>());
        services.AddHostedService<HandoffService>();
        services.AddHostedService(sp => new InstanceLockService(sp.GetRequiredService<ServingState>(), instanceLock,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InstanceLockService>>()));
        services.AddHostedService<CacheSweeper>();
        services.AddHostedService<MemoryTrimmer>();
        services.AddHostedService(sp => sp.GetRequiredService<ConfigReloader>());

        using IHost host = builder.Build();
        await host.RunAsync().ConfigureAwait(false);
        return Program.ExitOk;
    }

    private static void ConfigureLogging(ILoggingBuilder logging, LogFormat format, LogLevelSwitch level)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(LogLevel.Trace);
        logging.AddFilter((category, l) => level.IsEnabled(l) && !(category?.StartsWith("Microsoft.Hosting", StringComparison.Ordinal) == true && l < LogLevel.Warning));
        if (format == LogFormat.Json)
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
                o.JsonWriterOptions = new System.Text.Json.JsonWriterOptions { Indented = false };
            });
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            });
        }
    }
}
