using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Operations;
using NodeDns.Forwarding;
using NodeDns.Serving;

namespace NodeDns.Daemon.Hosting;

/// <summary>Wires the serving core into a generic host: logging, lifetime (SIGTERM/SIGINT), background services.</summary>
public static class DaemonHost
{
    public static async Task<int> RunAsync(DaemonSettings settings, BoundListeners listeners)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            ApplicationName = "nodedns",
        });
        ConfigureLogging(builder.Logging, settings);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(listeners);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new DnsCache(settings.Cache, sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton<ForwarderCounters>();
        builder.Services.AddSingleton(sp => new NetworkTransport(sp.GetRequiredService<ForwarderCounters>()));
        builder.Services.AddSingleton(sp => new Forwarder(settings.Forwarder, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<NetworkTransport>(), sp.GetRequiredService<ForwarderCounters>()));
        builder.Services.AddSingleton(RouteTable.Build(settings));
        builder.Services.AddSingleton(sp =>
        {
            var router = sp.GetRequiredService<ZoneRouter>();
            return new QueryPipeline(sp.GetRequiredService<DnsCache>(), () => router, sp.GetRequiredService<Forwarder>(),
                sp.GetRequiredService<TimeProvider>(), settings.Pipeline);
        });
        builder.Services.AddSingleton(sp => new MetricsPublisher(sp.GetRequiredService<QueryPipeline>(),
            sp.GetRequiredService<DnsCache>(), sp.GetRequiredService<Forwarder>().Counters));
        builder.Services.AddSingleton<DnsService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DnsService>());
        builder.Services.AddHostedService<CacheSweeper>();
        builder.Services.AddHostedService<OperationsService>();

        using IHost host = builder.Build();
        await host.RunAsync().ConfigureAwait(false);
        return Program.ExitOk;
    }

    private static void ConfigureLogging(ILoggingBuilder logging, DaemonSettings settings)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(settings.LogLevel);
        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
        if (settings.LogFormat == LogFormat.Json)
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
