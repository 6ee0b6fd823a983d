using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Protocol;
using NodeDns.Serving;
using Prometheus;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// Publishes the serving path's plain counters to a prometheus-net registry just before each scrape, so a query
/// never touches a label lookup. Names follow CoreDNS where the meaning is the same.
/// </summary>
public sealed class MetricsPublisher
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();

    public MetricsPublisher(QueryPipeline pipeline, DnsCache cache, ForwarderCounters forwarder)
    {
        MetricFactory factory = Metrics.WithCustomRegistry(_registry);
        Counter requests = factory.CreateCounter("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.",
            "server", "zone", "view", "proto", "family", "type");
        Counter.Child udp = requests.WithLabels("dns://", "", "", "udp", "", "");
        Counter.Child tcp = requests.WithLabels("dns://", "", "", "tcp", "", "");
        Counter responses = factory.CreateCounter("coredns_dns_responses_total", "Counter of response status codes.",
            "server", "zone", "view", "rcode", "plugin");
        Counter hits = factory.CreateCounter("coredns_cache_hits_total", "The count of cache hits.", "server", "type", "zones", "view");
        Counter misses = factory.CreateCounter("coredns_cache_misses_total", "The count of cache misses.", "server", "zones", "view");
        Gauge entries = factory.CreateGauge("coredns_cache_entries", "The number of elements in the cache.", "server", "type", "zones", "view");
        Counter evictions = factory.CreateCounter("coredns_cache_evictions_total", "The count of cache evictions.", "server", "type", "zones", "view");
        Counter requests_ = factory.CreateCounter("coredns_cache_requests_total", "The count of cache requests.", "server", "zones", "view");
        Counter prefetch = factory.CreateCounter("coredns_cache_prefetch_total", "The number of times the cache has prefetched a cached item.", "server", "zones", "view");
        Counter servedStale = factory.CreateCounter("coredns_cache_served_stale_total", "The number of requests served from stale cache entries.", "server", "zones", "view");
        Gauge failureEntries = factory.CreateGauge("nodedns_cache_failure_entries", "Cached upstream failures (RFC 9520).");
        Counter failureHits = factory.CreateCounter("nodedns_cache_failure_hits_total", "Queries answered from a cached failure (SERVFAIL or stale) without asking upstream.");
        Gauge cacheBytes = factory.CreateGauge("nodedns_cache_bytes", "Bytes held by cache entries, against the --cache-memory budget.");
        Counter markedDown = factory.CreateCounter("nodedns_upstream_marked_down_total", "Times an upstream was marked down after consecutive failures.");
        Counter healthFailures = factory.CreateCounter("coredns_proxy_healthcheck_failures_total", "Count of failed health checks.");
        Counter broken = factory.CreateCounter("coredns_forward_healthcheck_broken_total", "Counter of the number of complete failures of the healthchecks.");
        Counter coalesced = factory.CreateCounter("nodedns_coalesced_queries_total", "Misses that joined an upstream query already in flight.");
        Gauge inFlight = factory.CreateGauge("nodedns_inflight_queries", "Distinct questions being forwarded now.");
        Counter dropped = factory.CreateCounter("nodedns_dropped_packets_total", "Datagrams dropped without an answer (short or QR=1).");
        Counter overloaded = factory.CreateCounter("nodedns_overloaded_total", "Misses answered SERVFAIL at once because too many were in flight.");
        Counter tcpConnections = factory.CreateCounter("nodedns_tcp_connections_total", "Client TCP connections accepted.");
        Counter tcpRejected = factory.CreateCounter("nodedns_tcp_connections_rejected_total", "Client TCP connections closed at once: over the cap.");
        Counter upstreamQueries = factory.CreateCounter("nodedns_upstream_queries_total", "Queries sent to upstreams (each try counts).");
        Counter upstreamTimeouts = factory.CreateCounter("nodedns_upstream_timeouts_total", "Upstream tries that got no answer in time.");
        Counter upstreamErrors = factory.CreateCounter("nodedns_upstream_errors_total", "Upstream tries that failed with a network error.");
        Counter rejectedReplies = factory.CreateCounter("nodedns_upstream_rejected_replies_total", "Upstream replies ignored: wrong ID, question or format.");
        Counter internalErrors = factory.CreateCounter("nodedns_internal_errors_total", "Unexpected errors caught while answering a query.");
        factory.CreateGauge("coredns_build_info", "A metric with a constant '1' value labeled by version, revision, and goversion.",
            "version", "revision", "goversion").WithLabels(Hosting.BuildInfo.Version, "", Environment.Version.ToString()).Set(1);

        ServerCounters s = pipeline.Counters;
        _registry.AddBeforeCollectCallback(() =>
        {
            udp.IncTo(Interlocked.Read(ref s.UdpQueries));
            tcp.IncTo(Interlocked.Read(ref s.TcpQueries));
            for (int rcode = 0; rcode < s.Responses.Length; rcode++)
            {
                long count = Interlocked.Read(ref s.Responses[rcode]);
                if (count > 0)
                {
                    responses.WithLabels("dns://", "", "", DnsRcode.Name(rcode), "").IncTo(count);
                }
            }

            hits.WithLabels("dns://", "success", ".", "").IncTo(Interlocked.Read(ref s.CacheHits));
            hits.WithLabels("dns://", "denial", ".", "").IncTo(Interlocked.Read(ref s.NegativeHits));
            misses.WithLabels("dns://", ".", "").IncTo(Interlocked.Read(ref s.CacheMisses));
            requests_.WithLabels("dns://", ".", "").IncTo(Interlocked.Read(ref s.CacheHits) + Interlocked.Read(ref s.NegativeHits)
                + Interlocked.Read(ref s.FailureHits) + Interlocked.Read(ref s.CacheMisses));
            prefetch.WithLabels("dns://", ".", "").IncTo(Interlocked.Read(ref s.Prefetches));
            servedStale.WithLabels("dns://", ".", "").IncTo(Interlocked.Read(ref s.ServedStale));
            entries.WithLabels("dns://", "success", ".", "").Set(cache.PositiveCount);
            entries.WithLabels("dns://", "denial", ".", "").Set(cache.NegativeCount);
            evictions.WithLabels("dns://", "success", ".", "").IncTo(cache.Evictions(EntryKind.Positive));
            evictions.WithLabels("dns://", "denial", ".", "").IncTo(cache.Evictions(EntryKind.Negative));
            failureEntries.Set(cache.FailureCount);
            failureHits.IncTo(Interlocked.Read(ref s.FailureHits));
            cacheBytes.Set(cache.Bytes);
            markedDown.IncTo(Interlocked.Read(ref forwarder.UpstreamsMarkedDown));
            healthFailures.IncTo(Interlocked.Read(ref forwarder.HealthCheckFailures));
            broken.IncTo(Interlocked.Read(ref forwarder.AllUpstreamsDown));
            coalesced.IncTo(Interlocked.Read(ref s.Coalesced));
            inFlight.Set(pipeline.InFlight);
            dropped.IncTo(Interlocked.Read(ref s.Dropped));
            overloaded.IncTo(Interlocked.Read(ref s.Overloaded));
            tcpConnections.IncTo(Interlocked.Read(ref s.TcpConnections));
            tcpRejected.IncTo(Interlocked.Read(ref s.TcpConnectionsRejected));
            upstreamQueries.IncTo(Interlocked.Read(ref forwarder.UpstreamQueries));
            upstreamTimeouts.IncTo(Interlocked.Read(ref forwarder.UpstreamTimeouts));
            upstreamErrors.IncTo(Interlocked.Read(ref forwarder.UpstreamErrors));
            rejectedReplies.IncTo(Interlocked.Read(ref forwarder.RejectedReplies));
            internalErrors.IncTo(Interlocked.Read(ref s.InternalErrors));
        });
    }

    public async Task<byte[]> ScrapeAsync(CancellationToken cancellation)
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream, cancellation).ConfigureAwait(false);
        return stream.ToArray();
    }
}
