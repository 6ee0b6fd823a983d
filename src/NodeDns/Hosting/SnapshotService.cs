using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Warm restarts: loads the --snapshot file into the cache before DNS is served, and writes it atomically (temporary
/// file, flush, rename) after the listeners have closed on a graceful exit. A missing, corrupt or foreign snapshot
/// is logged and ignored.
/// </summary>
public sealed partial class SnapshotService(DnsCache cache, ServingState state, HandoffState handoff, TimeProvider time, ILogger<SnapshotService> logger)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (handoff.Takeover is { } takeover)
        {
            int taken = CacheSnapshot.Load(cache, new MemoryStream(takeover.Snapshot), time.GetUtcNow(), Route, out string? problem);
            LogTakenOver(taken, problem ?? "ok");
            return Task.CompletedTask;
        }

        if (state.Settings.SnapshotFile is not { } path || !File.Exists(path))
        {
            return Task.CompletedTask;
        }

        try
        {
            using FileStream stream = File.OpenRead(path);
            int loaded = CacheSnapshot.Load(cache, stream, time.GetUtcNow(), Route, out string? problem);
            if (problem is null)
            {
                LogLoaded(loaded, path);
            }
            else
            {
                LogIgnored(path, problem);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogIgnored(path, e.Message);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (state.Settings.SnapshotFile is not { } path || state.SuccessorServing)
        {
            return Task.CompletedTask;
        }

        string temporary = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write))
            {
                CacheSnapshot.Save(cache, stream, time.GetUtcNow());
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            LogSaved(cache.PositiveCount + cache.NegativeCount, path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(temporary);
            LogSaveFailed(path, e.Message);
        }

        return Task.CompletedTask;
    }

    private Protocol.ZoneId Route(byte[] key) => state.Router.Route(Protocol.CacheKey.Name(key)).Id;

    [LoggerMessage(Level = LogLevel.Information, Message = "hand-off: took over {Entries} cache entries from the previous instance ({Problem})")]
    private partial void LogTakenOver(int entries, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "warm start: loaded {Entries} cache entries from {Path}")]
    private partial void LogLoaded(int entries, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cache snapshot {Path} ignored: {Problem}")]
    private partial void LogIgnored(string path, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "cache snapshot of about {Entries} entries written to {Path}")]
    private partial void LogSaved(int entries, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "cache snapshot could not be written to {Path}: {Problem}")]
    private partial void LogSaveFailed(string path, string problem);
}
