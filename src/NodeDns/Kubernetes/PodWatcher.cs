using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NodeDns.Daemon.Kubernetes;

/// <summary>
/// Lists, then watches, the pods scheduled on this node (field selector <c>spec.nodeName</c>), and keeps
/// <see cref="NodePods"/> current. Built for a 5,000-node DaemonSet rollout: the list is served from the API
/// server's watch cache (<c>resourceVersion=0</c>), start and every re-list are jittered, back-off is capped, there is
/// one watch per node and nothing is polled. The watch resumes from the last resourceVersion (bookmarks keep it
/// fresh); <c>410 Gone</c> means a new list. DNS never waits for any of it: until the first list, and while the API
/// server is unreachable, clients are simply not recognised as pods. The stream is read line by line, one event each.
/// </summary>
public sealed partial class PodWatcher(KubernetesApi api, string nodeName, NodePods pods, PodWatchState state, PodWatchTiming timing,
    TimeProvider time, ILogger<PodWatcher> logger) : BackgroundService
{

    private string FieldSelector => $"spec.nodeName={nodeName}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan backOff = timing.FirstBackOff;
        try
        {
            await Task.Delay(Jitter(timing.StartJitter), time, stoppingToken).ConfigureAwait(false);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    string? version = await ListAsync(stoppingToken).ConfigureAwait(false);
                    backOff = timing.FirstBackOff;
                    while (version is not null)
                    {
                        version = await WatchAsync(version, stoppingToken).ConfigureAwait(false);
                    }

                    Interlocked.Increment(ref state.Relists); // 410 Gone: the version is too old to resume from
                    LogGone();
                    await Task.Delay(Jitter(timing.FirstBackOff), time, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    state.Connected = false;
                    Interlocked.Increment(ref state.Errors);
                    LogFailed(e.GetType().Name, e.Message, backOff.TotalSeconds);
                    await Task.Delay(backOff + Jitter(backOff), time, stoppingToken).ConfigureAwait(false);
                    backOff = TimeSpan.FromTicks(Math.Min(backOff.Ticks * 2, timing.MaxBackOff.Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <returns>The list's resourceVersion, to watch from.</returns>
    private async Task<string?> ListAsync(CancellationToken cancellation)
    {
        using HttpResponseMessage response = await api.GetAsync($"api/v1/pods?fieldSelector={Uri.EscapeDataString(FieldSelector)}&resourceVersion=0",
            cancellation).ConfigureAwait(false);
        using Stream body = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
        ApiPodList list = await JsonSerializer.DeserializeAsync(body, ApiJson.Default.ApiPodList, cancellation).ConfigureAwait(false)
            ?? throw new IOException("the pod list was empty");
        IReadOnlyList<ApiPod> items = list.Items ?? [];
        pods.ReplaceAll(items.Select(ToPodInfo));
        state.Connected = true;
        string version = list.Metadata?.ResourceVersion ?? "0";
        LogListed(items.Count, nodeName, version);
        return version;
    }

    /// <summary>Watches from <paramref name="version"/> until the server ends the request.</summary>
    /// <returns>The version to resume from, or null when the server said 410 Gone.</returns>
    private async Task<string?> WatchAsync(string version, CancellationToken cancellation)
    {
        string query = $"api/v1/pods?fieldSelector={Uri.EscapeDataString(FieldSelector)}&resourceVersion={Uri.EscapeDataString(version)}"
            + $"&allowWatchBookmarks=true&watch=true&timeoutSeconds={(int)(timing.WatchDuration + Jitter(timing.WatchDuration)).TotalSeconds}";
        HttpResponseMessage response;
        try
        {
            response = await api.GetAsync(query, cancellation).ConfigureAwait(false);
        }
        catch (ApiStatusException e) when (e.Status == HttpStatusCode.Gone)
        {
            return null;
        }

        using (response)
        {
            using Stream stream = await response.Content.ReadAsStreamAsync(cancellation).ConfigureAwait(false);
            using var reader = new StreamReader(stream);
            state.Connected = true;
            pods.MarkSynced();
            while (await reader.ReadLineAsync(cancellation).ConfigureAwait(false) is { } line)
            {
                if (line.Length == 0)
                {
                    continue;
                }

                string? next = Apply(line, version);
                if (next is null)
                {
                    return null;
                }

                version = next;
            }
        }

        return version;
    }

    /// <summary>Applies one watch event; returns the version it brings, or null for 410 Gone.</summary>
    private string? Apply(string line, string version)
    {
        ApiWatchEvent change = JsonSerializer.Deserialize(line, ApiJson.Default.ApiWatchEvent) ?? throw new IOException("an empty watch event");
        if (change.Type == "ERROR")
        {
            ApiStatus? status = change.Object.Deserialize(ApiJson.Default.ApiStatus);
            if (status?.Code == (int)HttpStatusCode.Gone)
            {
                return null;
            }

            throw new IOException($"watch error {status?.Code}: {status?.Message}");
        }

        ApiPod pod = change.Object.Deserialize(ApiJson.Default.ApiPod) ?? throw new IOException($"a {change.Type} event without a pod");
        switch (change.Type)
        {
            case "ADDED" or "MODIFIED":
                pods.Upsert(ToPodInfo(pod));
                break;
            case "DELETED":
                pods.Remove(Uid(pod));
                break;
            case "BOOKMARK":
                pods.MarkSynced();
                break;
        }

        Interlocked.Increment(ref state.Events);
        return pod.Metadata?.ResourceVersion ?? version;
    }

    public static PodInfo ToPodInfo(ApiPod pod)
    {
        IEnumerable<string?> ips = pod.Status?.PodIps is { Count: > 0 } podIps ? podIps.Select(p => p.Ip) : [pod.Status?.PodIp];
        ApiPodDnsConfig? dns = pod.Spec?.DnsConfig;
        return new PodInfo(
            Uid(pod),
            pod.Metadata?.Namespace ?? "",
            pod.Metadata?.Name ?? "",
            [.. ips.Select(ip => IPAddress.TryParse(ip, out IPAddress? address) ? address : null).OfType<IPAddress>()],
            pod.Spec?.DnsPolicy ?? "ClusterFirst",
            dns is null ? null : new PodDnsConfig([.. dns.Searches ?? []], [.. dns.Nameservers ?? []],
                [.. (dns.Options ?? []).Select(o => o.Value is null ? o.Name ?? "" : $"{o.Name}:{o.Value}")]),
            pod.Spec?.HostNetwork ?? false);
    }

    private static string Uid(ApiPod pod) => pod.Metadata?.Uid ?? $"{pod.Metadata?.Namespace}/{pod.Metadata?.Name}";

    private static TimeSpan Jitter(TimeSpan upTo) =>
        TimeSpan.FromMilliseconds(System.Security.Cryptography.RandomNumberGenerator.GetInt32(1001) / 1000.0 * upTo.TotalMilliseconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod watch: listed {Count} pods on node {Node} (resourceVersion {Version})")]
    private partial void LogListed(int count, string node, string version);

    [LoggerMessage(Level = LogLevel.Information, Message = "pod watch: resourceVersion expired (410 Gone); listing again")]
    private partial void LogGone();

    [LoggerMessage(Level = LogLevel.Warning, Message = "pod watch failed ({Kind}: {Reason}); DNS goes on, retrying in about {Seconds} s")]
    private partial void LogFailed(string kind, string reason, double seconds);
}

/// <summary>How the watch spreads its load on the API server; the defaults are for a real cluster.</summary>
public sealed record PodWatchTiming
{
    /// <summary>Spread of the first list over a DaemonSet rollout.</summary>
    public TimeSpan StartJitter { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Back-off after a failure, doubled up to <see cref="MaxBackOff"/>, each with up to as much again of jitter.</summary>
    public TimeSpan FirstBackOff { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackOff { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one watch request lasts before the server ends it and it is resumed (up to twice this, jittered).</summary>
    public TimeSpan WatchDuration { get; init; } = TimeSpan.FromMinutes(5);
}

/// <summary>The pod watch's health, published as metrics.</summary>
public sealed class PodWatchState
{
    public volatile bool Connected;
    public long Errors;
    public long Relists;
    public long Events;
}
