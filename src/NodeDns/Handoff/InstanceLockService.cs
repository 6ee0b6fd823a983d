using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Daemon.Hosting;

namespace NodeDns.Daemon.Handoff;

/// <summary>Holds the --lock-file; after a takeover, acquires it once the previous instance has exited.</summary>
public sealed partial class InstanceLockService(ServingState state, InstanceLock? held, TimeProvider time, ILogger<InstanceLockService> logger)
    : BackgroundService
{
    private InstanceLock? _lock = held;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_lock is not null || state.Settings.LockFile is not { } path)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                _lock = InstanceLock.TryAcquire(path, out _);
                if (_lock is not null)
                {
                    LogAcquired(path);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    public override void Dispose()
    {
        _lock?.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "the previous instance has exited: this instance now holds {Path}")]
    private partial void LogAcquired(string path);
}
