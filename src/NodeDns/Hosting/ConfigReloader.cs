using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Operations;
using NodeDns.Serving;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Re-reads the configuration on SIGHUP and when the config file's content changes (polled, so ConfigMap symlink
/// swaps are seen too), validates it, and applies every option the registry marks as applied (upstreams and zones,
/// keeping the health of upstreams that stay; TTL bounds; cache limits; pipeline policies; the allow-list, rate
/// limits and TCP limits; health-check timing; the log level) without dropping a query. An invalid configuration is
/// logged and the old one kept. A changed option that needs a restart keeps its running value and is named in the
/// log and in <c>nodedns_reload_restart_pending</c>.
/// </summary>
public sealed partial class ConfigReloader(
    Func<DaemonSettings> load,
    ServingState state,
    DnsCache cache,
    QueryPipeline pipeline,
    ClientPolicy clients,
    Forwarding.Forwarder forwarder,
    BoundListeners listeners,
    LogLevelSwitch logLevel,
    DnsMetrics metrics,
    TimeProvider time,
    ILogger<ConfigReloader> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly SemaphoreSlim _requested = new(0, 1);

    // Registered when the host is built, before any listener opens: SIGHUP's default action would end the process,
    // and a reload asked for before ExecuteAsync runs is simply picked up when it does.
    private PosixSignalRegistration? _hangup;

    // Taken when the host is built, right after the settings were read, so a change made before ExecuteAsync runs
    // is still seen as a change.
    private readonly byte[]? _initialContents = Snapshot(state.Settings.WatchedFiles);

    /// <summary>Takes SIGHUP from now on; called when the host is built.</summary>
    public ConfigReloader HandleHangup()
    {
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true;
            Request();
        });
        return this;
    }

    public override void Dispose()
    {
        _hangup?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IReadOnlyList<string> files = state.Settings.WatchedFiles;
        byte[]? lastContents = _initialContents;
        using var poll = new PeriodicTimer(PollInterval, time);
        Task<bool> tick = poll.WaitForNextTickAsync(stoppingToken).AsTask();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                Task signal = _requested.WaitAsync(stoppingToken);
                Task woke = await Task.WhenAny(signal, tick).ConfigureAwait(false);
                if (woke == tick)
                {
                    await tick.ConfigureAwait(false);
                    tick = poll.WaitForNextTickAsync(stoppingToken).AsTask();
                    byte[]? contents = Snapshot(files);
                    if (files.Count == 0 || contents is null || (lastContents is not null && contents.AsSpan().SequenceEqual(lastContents)))
                    {
                        continue; // unchanged, or briefly unreadable while a ConfigMap is swapped
                    }

                    lastContents = contents;
                    LogFileChanged(string.Join(", ", files));
                }
                else
                {
                    await signal.ConfigureAwait(false);
                    LogSignal();
                }

                Reload();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Asks for a reload (as SIGHUP does); several requests before it runs make one reload.</summary>
    public void Request()
    {
        if (_requested.CurrentCount == 0)
        {
            try
            {
                _requested.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    private void Reload()
    {
        DaemonSettings next;
        try
        {
            next = load();
        }
        catch (ConfigurationException e)
        {
            metrics.ReloadFailed.Inc();
            metrics.Reloads.WithLabels("failure").Inc();
            LogInvalid(e.Message);
            return;
        }

        ReloadPlan plan = ReloadPlan.For(state.Settings, next);
        DaemonSettings effective = plan.Effective;
        cache.Reconfigure(effective.Cache);
        pipeline.Options = effective.Pipeline;
        clients.Reconfigure(effective.Clients);
        forwarder.Options = effective.Forwarder;
        foreach (TcpDnsListener listener in listeners.Tcp)
        {
            listener.Options = effective.Tcp;
        }

        logLevel.Level = effective.LogLevel;
        state.Apply(effective);

        foreach (OptionSpec option in OptionCatalog.All)
        {
            metrics.RestartPending.WithLabels(option.Name).Set(plan.NeedRestart.Contains(option) ? 1 : 0);
        }

        metrics.Reloads.WithLabels(plan.NeedRestart.Count == 0 ? "success" : "partial").Inc();
        LogReloaded(plan.Applied.Count == 0 ? "nothing" : string.Join(", ", plan.Applied.Select(o => o.Flag)), effective.Upstreams.Count,
            state.Router.Routes.Count);
        if (plan.NeedRestart.Count > 0)
        {
            LogNeedsRestart(string.Join(", ", plan.NeedRestart.Select(o => o.Flag)));
        }
    }

    /// <summary>
    /// The watched files' contents, each after its length; a missing file counts as empty (the kube-dns ConfigMap is
    /// optional). Compared whole rather than hashed: the files are small, and a hash would load OpenSSL for nothing.
    /// </summary>
    private static byte[]? Snapshot(IReadOnlyList<string> files)
    {
        try
        {
            using var contents = new MemoryStream();
            Span<byte> length = stackalloc byte[sizeof(int)];
            foreach (string file in files)
            {
                byte[] data = File.Exists(file) ? File.ReadAllBytes(file) : [];
                BinaryPrimitives.WriteInt32LittleEndian(length, data.Length);
                contents.Write(length);
                contents.Write(data);
            }

            return contents.ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "SIGHUP: reloading the configuration")]
    private partial void LogSignal();

    [LoggerMessage(Level = LogLevel.Information, Message = "{Files} changed: reloading the configuration")]
    private partial void LogFileChanged(string files);

    [LoggerMessage(Level = LogLevel.Information, Message = "configuration reloaded: applied {Changed}; {Upstreams} upstreams in {Zones} zones")]
    private partial void LogReloaded(string changed, int upstreams, int zones);

    [LoggerMessage(Level = LogLevel.Error, Message = "configuration not reloaded, the running one is kept: {Reason}")]
    private partial void LogInvalid(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "configuration changed but not applied, the running values are kept until a restart: {Options}")]
    private partial void LogNeedsRestart(string options);
}
