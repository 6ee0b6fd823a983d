using System.Collections.Concurrent;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Protocol;
using NodeDns.Serving;
using Prometheus;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// What the node's pods ask (issue 14's insight). Per namespace, as metrics: queries, NXDOMAIN answers and cache misses,
/// labelled by namespace only — never by pod or name, so the series stay as few as the namespaces on the node (at most
/// <see cref="MaxNamespaces"/>; beyond, "other"). Per pod and per name, in fixed memory and only for
/// <c>GET /debug/top</c>: the heaviest talkers (<see cref="TopTalkers"/>); a client that is no known pod shows as its
/// address there and is not counted in the metrics.
/// </summary>
public sealed class PodInsight(DnsMetrics metrics, NodePods pods, TopTalkers top, PodSearchPaths searchPaths)
{
    public const int MaxNamespaces = 500;
    private const string Other = "other";

    private readonly ConcurrentDictionary<string, Series> _byNamespace = new(StringComparer.Ordinal);

    public TopTalkers Top => top;

    public void Answered(ClientAddress client, ReadOnlySpan<byte> name, int rcode, AnswerSource source, long receivedAt)
    {
        PodInfo? pod = pods.Find(client);
        if (pod is not null)
        {
            Series series = _byNamespace.TryGetValue(pod.Namespace, out Series? known) ? known : Bind(pod.Namespace);
            series.Queries.Inc();
            if (rcode == DnsRcode.NxDomain)
            {
                series.NxDomain.Inc();
            }

            if (source == AnswerSource.Forward)
            {
                series.Misses.Inc();
            }
        }

        if (top.IsSampled(receivedAt))
        {
            top.Record(pod, client, name, rcode, source, rcode == DnsRcode.NxDomain && pod is not null && IsExpansion(pod, name));
        }
    }

    /// <summary>Whether <paramref name="name"/> lies under one of the pod's search domains: what ndots makes glibc try first.</summary>
    private bool IsExpansion(PodInfo pod, ReadOnlySpan<byte> name)
    {
        foreach (byte[] domain in searchPaths.For(pod)?.Domains ?? [])
        {
            if (name.Length > domain.Length && DnsName.IsSubdomainOf(name, domain))
            {
                return true;
            }
        }

        return false;
    }

    private Series Bind(string ns)
    {
        string label = _byNamespace.Count < MaxNamespaces ? ns : Other;
        return _byNamespace.GetOrAdd(ns, _ => new Series(metrics.NamespaceQueries.WithLabels(label), metrics.NamespaceNxDomain.WithLabels(label),
            metrics.NamespaceMisses.WithLabels(label)));
    }

    private sealed record Series(Counter.Child Queries, Counter.Child NxDomain, Counter.Child Misses);
}
