using Microsoft.Extensions.Hosting;
using NodeDns.Caching;

namespace NodeDns.Daemon.Hosting;

/// <summary>Removes expired cache entries every few seconds so dead answers do not pin memory.</summary>
public sealed class CacheSweeper(DnsCache cache, TimeProvider time) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                cache.SweepExpired();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
