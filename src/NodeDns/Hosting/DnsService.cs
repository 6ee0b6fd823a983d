using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Daemon.Configuration;
using NodeDns.Serving;

namespace NodeDns.Daemon.Hosting;

/// <summary>Starts the already-bound DNS listeners with the query pipeline, and closes them on shutdown.</summary>
public sealed partial class DnsService(BoundListeners listeners, QueryPipeline pipeline, DaemonSettings settings, ILogger<DnsService> logger)
    : IHostedService
{
    private volatile bool _serving;

    /// <summary>True while every listener is bound and serving.</summary>
    public bool IsServing => _serving;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (UdpListener udp in listeners.Udp)
        {
            udp.Start(pipeline, LogQueryError);
            LogListening("udp", udp.EndPoint.ToString(), settings.UdpSockets);
        }

        foreach (TcpDnsListener tcp in listeners.Tcp)
        {
            tcp.Start(pipeline, LogQueryError);
            LogListening("tcp", tcp.EndPoint.ToString(), 1);
        }

        foreach (UpstreamSetting upstream in settings.Upstreams)
        {
            LogUpstream(Protocol.DnsName.ToText(upstream.Zone), upstream.Server.ToString(), upstream.Server.Transport.ToString());
        }

        _serving = true;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _serving = false;
        listeners.Dispose();
        LogStopped();
        return Task.CompletedTask;
    }

    private void LogQueryError(Exception e) => LogUnexpected(e);

    [LoggerMessage(Level = LogLevel.Information, Message = "listening on {Protocol} {EndPoint} ({Sockets} sockets)")]
    private partial void LogListening(string protocol, string endPoint, int sockets);

    [LoggerMessage(Level = LogLevel.Information, Message = "zone {Zone} forwards to {Upstream} ({Transport})")]
    private partial void LogUpstream(string zone, string upstream, string transport);

    [LoggerMessage(Level = LogLevel.Information, Message = "listeners closed")]
    private partial void LogStopped();

    [LoggerMessage(Level = LogLevel.Error, Message = "unexpected error while answering a query")]
    private partial void LogUnexpected(Exception e);
}
