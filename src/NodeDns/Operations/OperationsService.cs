using System.Net;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Daemon.Hosting;
using NodeDns.Forwarding;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// Serves /metrics, /health (the process runs) and /ready (listeners serving, not draining, and when
/// --ready-upstream is set, an upstream of the root zone healthy) on the metrics address.
/// </summary>
public sealed partial class OperationsService(BoundListeners listeners, DnsService dns, ServingState state, DnsMetrics metrics,
    ILogger<OperationsService> logger, PodInsight? insight = null) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.WatchGcPauses();
        foreach (HttpEndpoint http in listeners.Http)
        {
            http.Start(HandleAsync);
            LogListening(http.EndPoint.ToString());
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        metrics.StopWatchingGcPauses();
        foreach (HttpEndpoint http in listeners.Http)
        {
            http.Dispose();
        }

        return Task.CompletedTask;
    }

    public bool IsReady =>
        dns.IsServing && !state.Draining
        && (!state.Settings.ReadyRequiresUpstream || !state.Router.Route([0]).Pool.AllDown);

    public async Task<HttpReply> HandleAsync(string path, IPAddress peer, CancellationToken cancellation) => path switch
    {
        "/metrics" => new HttpReply(200, "text/plain; version=0.0.4; charset=utf-8", await metrics.ScrapeAsync(cancellation).ConfigureAwait(false)),
        "/health" => HttpReply.Text(200, "OK\n"),
        "/ready" => IsReady ? HttpReply.Text(200, "ready\n") : HttpReply.Text(503, "not ready\n"),
        TopView.Path => TopView.Reply(insight, peer),
        _ => HttpReply.Text(404, "not found\n"),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "metrics, health and readiness on http://{EndPoint}")]
    private partial void LogListening(string endPoint);
}
