using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Operations;
using NodeDns.Dnstap;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Runs the dnstap writer (--dnstap) for the life of the daemon: it starts before DNS is served and stops after DNS
/// stopped, so the last answers are written too, then closes the Frame Streams session with STOP and FINISH.
/// </summary>
public sealed class DnstapService(DnstapLog log, DnstapSettings settings, DnsMetrics metrics, ILogger<DnstapService> logger) : IHostedService
{
    private DnstapWriter? _writer;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        byte[] identity = Encoding.UTF8.GetBytes(settings.Identity ?? Environment.MachineName);
        byte[] version = Encoding.UTF8.GetBytes(settings.Version ?? $"nodedns {BuildInfo.Version}");
        _writer = new DnstapWriter(log, settings.Target!, identity, version, Report);
        metrics.PublishDnstap(_writer);
        logger.LogInformation("dnstap: {Messages} to {Target}, up to {Queue} messages queued", DnstapMessageTypeNames.Format(log.Types),
            settings.Target, log.Queue.Capacity);
        _writer.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _writer?.Dispose();
        return Task.CompletedTask;
    }

    private void Report(string message, bool problem) =>
        logger.Log(problem ? LogLevel.Warning : LogLevel.Information, "{Message}", message);
}
