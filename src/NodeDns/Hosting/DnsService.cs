using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Daemon.Configuration;
using NodeDns.Serving;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Starts the already-bound DNS listeners with the query pipeline. On shutdown it keeps answering for the lameduck
/// period (readiness already says 503 from the moment SIGTERM arrived), then closes the listeners.
/// </summary>
public sealed partial class DnsService(
    BoundListeners listeners,
    QueryPipeline pipeline,
    ServingState state,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<DnsService> logger) : IHostedService
{
    private volatile bool _serving;

    /// <summary>True while every listener is bound and serving.</summary>
    public bool IsServing => _serving;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        DaemonSettings settings = state.Settings;
        lifetime.ApplicationStopping.Register(() =>
        {
            state.Draining = true;
            if (!state.SuccessorServing)
            {
                LogDraining(state.Settings.Lameduck.TotalSeconds);
            }
        });
        for (int i = 0; i < listeners.Udp.Count; i++)
        {
            listeners.Udp[i].Start(pipeline, i, LogUnexpected, settings.UpstreamIoUring);
            LogListening("udp", listeners.Udp[i].EndPoint.ToString(), settings.UdpSockets);
            listeners.Tcp[i].Start(pipeline, i, LogUnexpected);
            LogListening("tcp", listeners.Tcp[i].EndPoint.ToString(), 1);
        }

        string? noRing = settings.UpstreamIoUring ? Forwarding.UdpReactor.WhyNoRing() : "turned off (--upstream-io-uring=false)";
        LogUpstreamIo(noRing is null ? "io_uring" : "epoll", noRing ?? "a fresh random-port socket per query, set up in batches");

        foreach (UpstreamSetting upstream in settings.Upstreams)
        {
            LogUpstream(Protocol.DnsName.ToText(upstream.Zone), upstream.Server.ToString(), upstream.Server.Transport.ToString());
        }

        _serving = true;
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (state.SuccessorServing)
            {
                // The successor reads the same sockets: stop reading, answer what we already read, then let go.
                listeners.StopReceiving();
                for (int i = 0; i < 50 && pipeline.InFlight > 0; i++)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                await Task.Delay(state.Settings.Lameduck, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }

        _serving = false;
        listeners.Dispose();
        LogStopped();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "listening on {Protocol} {EndPoint} ({Sockets} sockets)")]
    private partial void LogListening(string protocol, string endPoint, int sockets);

    [LoggerMessage(Level = LogLevel.Information, Message = "upstream UDP queries of the listener threads run on {Mechanism}: {Reason}")]
    private partial void LogUpstreamIo(string mechanism, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "zone {Zone} forwards to {Upstream} ({Transport})")]
    private partial void LogUpstream(string zone, string upstream, string transport);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopping: /ready now says 503, DNS is answered for {Seconds} more seconds")]
    private partial void LogDraining(double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "listeners closed")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Error, Message = "unexpected error while answering a query")]
    private partial void LogUnexpected(Exception e);
}
