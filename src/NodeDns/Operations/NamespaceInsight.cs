using System.Collections.Concurrent;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Protocol;
using NodeDns.Serving;
using Prometheus;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// Per-namespace counts of the queries of this node's pods (issue 14's insight): queries, NXDOMAIN answers and cache
/// misses, labelled by namespace only — never by pod or name, so the series stay as few as the namespaces on the node
/// (at most <see cref="MaxNamespaces"/>; beyond, "other"). Clients that are not a known pod are not counted here.
/// </summary>
public sealed class NamespaceInsight(DnsMetrics metrics, NodePods pods)
{
    public const int MaxNamespaces = 500;
    private const string Other = "other";

    private readonly ConcurrentDictionary<string, Series> _byNamespace = new(StringComparer.Ordinal);

    public void Answered(ClientAddress client, int rcode, AnswerSource source)
    {
        if (pods.Find(client) is not { } pod)
        {
            return;
        }

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

    private Series Bind(string ns)
    {
        string label = _byNamespace.Count < MaxNamespaces ? ns : Other;
        return _byNamespace.GetOrAdd(ns, _ => new Series(metrics.NamespaceQueries.WithLabels(label), metrics.NamespaceNxDomain.WithLabels(label),
            metrics.NamespaceMisses.WithLabels(label)));
    }

    private sealed record Series(Counter.Child Queries, Counter.Child NxDomain, Counter.Child Misses);
}
