using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeDns.Daemon.Compatibility;

/// <summary>The kube-dns ConfigMap's keys node-cache reads (mounted at /etc/kube-dns).</summary>
public sealed record KubeDnsConfig(IReadOnlyDictionary<string, IReadOnlyList<string>> StubDomains, IReadOnlyList<string> UpstreamNameservers)
{
    public static readonly KubeDnsConfig Empty = new(new Dictionary<string, IReadOnlyList<string>>(), []);

    /// <summary>Reads <c>stubDomains</c> (JSON map domain → servers) and <c>upstreamNameservers</c> (JSON list, at most 3).</summary>
    public static KubeDnsConfig Load(string? directory)
    {
        if (directory is null || !Directory.Exists(directory))
        {
            return Empty;
        }

        string stubPath = Path.Combine(directory, "stubDomains");
        string upstreamPath = Path.Combine(directory, "upstreamNameservers");
        try
        {
            var stubs = File.Exists(stubPath)
                ? JsonSerializer.Deserialize(File.ReadAllText(stubPath), KubeDnsJson.Default.DictionaryStringStringArray) ?? []
                : [];
            string[] upstreams = File.Exists(upstreamPath) ? JsonSerializer.Deserialize(File.ReadAllText(upstreamPath), KubeDnsJson.Default.StringArray) ?? [] : [];
            if (upstreams.Length > 3)
            {
                throw new CorefileException($"{upstreamPath}: at most 3 upstreamNameservers, not {upstreams.Length}");
            }

            return new KubeDnsConfig(stubs.ToDictionary(s => s.Key, s => (IReadOnlyList<string>)s.Value), upstreams);
        }
        catch (JsonException e)
        {
            throw new CorefileException($"{directory}: the kube-dns ConfigMap is not valid JSON: {e.Message}");
        }
    }

    public static IEnumerable<string> Files(string? directory) =>
        directory is null ? [] : [Path.Combine(directory, "stubDomains"), Path.Combine(directory, "upstreamNameservers")];
}

/// <summary>The shapes of the kube-dns ConfigMap's keys, read without reflection (the daemon is compiled ahead of time).</summary>
[JsonSerializable(typeof(Dictionary<string, string[]>))]
[JsonSerializable(typeof(string[]))]
internal sealed partial class KubeDnsJson : JsonSerializerContext;

/// <summary>
/// What node-cache does to its Corefile template: substitutes the <c>__PILLAR__</c> variables and appends a server
/// block for each stub domain of the kube-dns ConfigMap.
/// </summary>
public static class PillarRenderer
{
    public static string Render(string template, IReadOnlyList<string> localIps, string? clusterDns, KubeDnsConfig kubeDns, int port,
        string? prometheusEndpoint)
    {
        string upstreams = kubeDns.UpstreamNameservers.Count > 0 ? string.Join(' ', kubeDns.UpstreamNameservers) : "/etc/resolv.conf";
        var text = new StringBuilder(template
            .Replace("__PILLAR__LOCAL__DNS__", string.Join(' ', localIps), StringComparison.Ordinal)
            .Replace("__PILLAR__DNS__SERVER__", "", StringComparison.Ordinal)
            .Replace("__PILLAR__UPSTREAM__SERVERS__", upstreams, StringComparison.Ordinal));
        if (clusterDns is not null)
        {
            text.Replace("__PILLAR__CLUSTER__DNS__", clusterDns);
        }

        if (prometheusEndpoint is not null)
        {
            text.Replace("__PROMETHEUS__ENDPOINT__", prometheusEndpoint);
        }

        foreach ((string domain, IReadOnlyList<string> servers) in kubeDns.StubDomains)
        {
            text.Append($"\n{domain}:{port} {{\n    errors\n    cache 30\n    bind {string.Join(' ', localIps)}\n    forward . {string.Join(' ', servers)}\n}}\n");
        }

        return text.ToString();
    }
}
