using System.Collections.Concurrent;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Daemon.Kubernetes;

/// <summary>
/// The search list of each pod of the node, as kubelet writes it into the pod's resolv.conf: for <c>ClusterFirst</c>
/// <c>&lt;ns&gt;.svc.&lt;domain&gt;</c>, <c>svc.&lt;domain&gt;</c>, <c>&lt;domain&gt;</c>, then the node's search
/// domains, then <c>dnsConfig.searches</c>; for <c>Default</c> the node's and the pod's own; for <c>None</c> only the
/// pod's own — without repeats and at most 32 domains (kubelet's limit). Host-network pods are never found by address,
/// so the node's own address never gets a pod's list. Lists that are equal share one number.
/// </summary>
public sealed class PodSearchPaths(NodePods pods, string clusterDomain, IReadOnlyList<string> hostSearch) : ISearchPaths
{
    public const int MaxDomains = 32;

    private readonly ConcurrentDictionary<PodInfo, SearchList?> _byPod = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<string, int> _ids = new(StringComparer.Ordinal);

    public SearchList? For(ClientAddress client) => pods.Find(client) is { } pod ? For(pod) : null;

    /// <summary>The search list of <paramref name="pod"/>; null when it has none.</summary>
    public SearchList? For(PodInfo pod)
    {
        if (_byPod.TryGetValue(pod, out SearchList? known))
        {
            return known;
        }

        if (_byPod.Count > 2 * NodePods.MaxPods)
        {
            _byPod.Clear(); // pods come and go; this only spares work
        }

        return _byPod.GetOrAdd(pod, Compute);
    }

    /// <summary>The search domains of <paramref name="pod"/>, dotted, in the order its resolver tries them.</summary>
    public IReadOnlyList<string> Domains(PodInfo pod)
    {
        IEnumerable<string> cluster = [$"{pod.Namespace}.svc.{clusterDomain}", $"svc.{clusterDomain}", clusterDomain];
        IEnumerable<string> own = pod.DnsConfig?.Searches ?? [];
        IEnumerable<string> all = pod.DnsPolicy switch
        {
            "None" => own,
            "Default" => hostSearch.Concat(own),
            _ => cluster.Concat(hostSearch).Concat(own), // ClusterFirst, ClusterFirstWithHostNet
        };
        return [.. all.Select(d => d.TrimEnd('.').ToLowerInvariant()).Where(d => d.Length > 0).Distinct(StringComparer.Ordinal).Take(MaxDomains)];
    }

    private SearchList? Compute(PodInfo pod)
    {
        IReadOnlyList<string> domains = Domains(pod);
        List<byte[]> wire = [.. domains.Select(d => DnsName.TryParseText(d, out byte[] w) ? w : null).OfType<byte[]>()];
        if (wire.Count == 0)
        {
            return null;
        }

        int id = _ids.GetOrAdd(string.Join(' ', domains), _ => _ids.Count + 1);
        return new SearchList(id, wire);
    }

    /// <summary>The search domains of a resolv.conf (the last <c>search</c> or <c>domain</c> line wins, as in glibc).</summary>
    public static IReadOnlyList<string> HostSearch(string resolvConf)
    {
        try
        {
            string[]? last = null;
            foreach (string line in File.ReadLines(resolvConf))
            {
                string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length >= 2 && fields[0] is "search" or "domain")
                {
                    last = fields[1..];
                }
            }

            return last ?? [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
