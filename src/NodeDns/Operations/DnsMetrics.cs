using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Serving;
using Prometheus;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// Every metric of the daemon, in its own prometheus-net registry. Names, types and labels follow CoreDNS where the
/// meaning is the same (docs/metrics.md lists them), so NodeLocal DNSCache dashboards and alerts work unchanged.
/// Per-query series are bound once and driven by <see cref="PrometheusQueryObserver"/>; everything else is copied
/// from plain counters just before each scrape.
/// </summary>
public sealed class DnsMetrics
{
    /// <summary>CoreDNS's plugin.TimeBuckets: 0.25 ms doubling 16 times.</summary>
    public static readonly double[] TimeBuckets = Histogram.ExponentialBuckets(0.00025, 2, 16);

    public const string CacheZones = ".";

    public static readonly string[] NodeCacheSetupErrorTypes = ["iptables", "iptables_lock", "interface_add", "interface_check", "configmap"];

    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();

    /// <summary>Upstream answers carry a header rcode (4 bits).</summary>
    private const int HeaderRcodes = 16;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<UpstreamServer, Histogram.Child?[]> _proxyDurations = new();

    /// <summary>The (zone, upstream) health series published at the last scrape, so removed upstreams lose theirs.</summary>
    private HashSet<(string Zone, string To)> _healthSeries = [];

    public DnsMetrics()
    {
        MetricFactory factory = Metrics.WithCustomRegistry(_registry);
        DotNetStats.Register(_registry); // process_resident_memory_bytes, process_cpu_seconds_total, GC collection counts
        Requests = factory.CreateCounter("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.",
            "server", "zone", "view", "proto", "family", "type");
        Responses = factory.CreateCounter("coredns_dns_responses_total", "Counter of response status codes.",
            "server", "zone", "view", "rcode", "plugin");
        RequestDuration = factory.CreateHistogram("coredns_dns_request_duration_seconds", "Histogram of the time (in seconds) each request took per zone.",
            new HistogramConfiguration { LabelNames = ["server", "zone", "view", "type"], Buckets = TimeBuckets });
        CacheEntries = factory.CreateGauge("coredns_cache_entries", "The number of elements in the cache.", "server", "type", "zones", "view");
        CacheHits = factory.CreateCounter("coredns_cache_hits_total", "The count of cache hits.", "server", "type", "zones", "view");
        CacheMisses = factory.CreateCounter("coredns_cache_misses_total", "The count of cache misses. Deprecated, derive misses from cache hits/requests counters.",
            "server", "zones", "view");
        CacheRequests = factory.CreateCounter("coredns_cache_requests_total", "The count of cache requests.", "server", "zones", "view");
        CachePrefetch = factory.CreateCounter("coredns_cache_prefetch_total", "The number of times the cache has prefetched a cached item.", "server", "zones", "view");
        CacheServedStale = factory.CreateCounter("coredns_cache_served_stale_total", "The number of requests served from stale cache entries.", "server", "zones", "view");
        CacheEvictions = factory.CreateCounter("coredns_cache_evictions_total", "The count of cache evictions.", "server", "type", "zones", "view");
        ProxyDuration = factory.CreateHistogram("coredns_proxy_request_duration_seconds", "Histogram of the time each request took.",
            new HistogramConfiguration { LabelNames = ["proxy_name", "to", "rcode"], Buckets = TimeBuckets });
        HealthCheckFailures = factory.CreateCounter("coredns_proxy_healthcheck_failures_total", "Count of failed health checks.", "proxy_name", "to");
        HealthCheckBroken = factory.CreateCounter("coredns_forward_healthcheck_broken_total", "Counter of the number of complete failures of the healthchecks.");
        NodeCacheSetupErrors = factory.CreateCounter("coredns_nodecache_setup_errors_total", "The number of errors during periodic network setup for node-cache",
            "errortype");
        foreach (string type in NodeCacheSetupErrorTypes)
        {
            NodeCacheSetupErrors.WithLabels(type).IncTo(0);
        }

        ReloadFailed = factory.CreateCounter("coredns_reload_failed_total", "Counter of the number of failed reload attempts.");
        Reloads = factory.CreateCounter("nodedns_reloads_total", "Configuration reloads, by result.", "result");
        Reloads.WithLabels("success").IncTo(0);
        Reloads.WithLabels("failure").IncTo(0);
        Reloads.WithLabels("partial").IncTo(0);
        RestartPending = factory.CreateGauge("nodedns_reload_restart_pending",
            "1 for an option whose configured value differs from the running one until a restart applies it.", "option");
        factory.CreateGauge("coredns_build_info", "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.",
            "version", "revision", "goversion").WithLabels(Hosting.BuildInfo.Version, Hosting.BuildInfo.Revision, "dotnet" + Environment.Version).Set(1);

        CacheBytes = factory.CreateGauge("nodedns_cache_bytes", "Bytes held by cache entries, against the --cache-memory budget.");
        CacheChunkBytes = factory.CreateGauge("nodedns_cache_chunk_bytes",
            "Native memory the cache holds: its 128 KiB chunks in use, also bounded by --cache-memory (empty chunks go back to the kernel).");
        CacheFailureEntries = factory.CreateGauge("nodedns_cache_failure_entries", "Cached upstream failures (RFC 9520).");
        CacheFailureHits = factory.CreateCounter("nodedns_cache_failure_hits_total", "Queries answered from a cached failure (SERVFAIL or stale) without asking upstream.");
        InFlight = factory.CreateGauge("nodedns_inflight_queries", "Distinct questions being forwarded now.");
        Coalesced = factory.CreateCounter("nodedns_coalesced_queries_total", "Misses that joined an upstream query already in flight.");
        Overloaded = factory.CreateCounter("nodedns_overloaded_total", "Misses answered SERVFAIL at once: too many questions in flight or clients waiting on one.");
        Dropped = factory.CreateCounter("nodedns_dropped_packets_total", "Datagrams dropped without an answer (shorter than a header, or QR=1).");
        TcpConnections = factory.CreateGauge("nodedns_tcp_connections", "Client TCP connections open now.");
        TcpAccepted = factory.CreateCounter("nodedns_tcp_connections_total", "Client TCP connections accepted.");
        TcpRejected = factory.CreateCounter("nodedns_tcp_connections_rejected_total", "Client TCP connections closed at once: over the cap.");
        SendErrors = factory.CreateCounter("nodedns_send_errors_total", "Responses that could not be sent.");
        RefusedClients = factory.CreateCounter("nodedns_refused_clients_total", "Queries answered REFUSED: the client is not in --allow.");
        RateLimited = factory.CreateCounter("nodedns_rate_limited_total", "Misses answered REFUSED: the client exceeded --client-miss-rate.");
        InternalErrors = factory.CreateCounter("nodedns_internal_errors_total", "Unexpected errors caught while answering a query.");
        UpstreamQueries = factory.CreateCounter("nodedns_upstream_queries_total", "Queries sent to upstreams (each try counts).");
        UpstreamTimeouts = factory.CreateCounter("nodedns_upstream_timeouts_total", "Upstream tries that got no answer in time.");
        UpstreamErrors = factory.CreateCounter("nodedns_upstream_errors_total", "Upstream tries that failed with a network error.");
        UpstreamRejected = factory.CreateCounter("nodedns_upstream_rejected_replies_total", "Upstream replies ignored: wrong ID, question or format.");
        UpstreamTcpRetries = factory.CreateCounter("nodedns_upstream_tcp_retries_total", "Truncated or oversized UDP answers fetched again over TCP.");
        UpstreamHealthy = factory.CreateGauge("nodedns_upstream_healthy", "1 while an upstream is considered healthy, 0 while it is marked down.", "zone", "to");
        MissesOffListener = factory.CreateCounter("nodedns_udp_misses_completed_off_listener_total",
            "UDP misses whose answer was ready on another thread than the listener thread that took them (sent at once, not in its burst).");
        NamespaceQueries = factory.CreateCounter("nodedns_namespace_queries_total", "Queries from the pods of this node, by namespace (pod watch on).", "namespace");
        NamespaceNxDomain = factory.CreateCounter("nodedns_namespace_nxdomain_total", "NXDOMAIN answers to the pods of this node, by namespace.", "namespace");
        NamespaceMisses = factory.CreateCounter("nodedns_namespace_cache_misses_total", "Queries of the pods of this node answered from upstream, by namespace.",
            "namespace");
        AutopathAnswers = factory.CreateCounter("nodedns_autopath_answers_total",
            "Answers to a pod found under another name of its search list (node-local autopath), from the walk or the cache.");
        AutopathSaved = factory.CreateCounter("nodedns_autopath_expansions_saved_total",
            "Queries the pods did not have to send because the autopath walk answered for them (counted when the walk runs).");
        UpstreamsMarkedDown = factory.CreateCounter("nodedns_upstreams_marked_down_total", "Times an upstream was marked down after --max-fails failed tries.");
        GcPause = factory.CreateCounter("nodedns_gc_pause_seconds_total", "Time every thread was paused for garbage collection (answers wait meanwhile).");
        GcAllocated = factory.CreateCounter("nodedns_gc_allocated_bytes_total",
            "Bytes allocated on the GC heap since start: its rate drives the collections (a cache hit allocates nothing).");
    }

    public Counter Requests { get; }
    public Counter Responses { get; }
    public Histogram RequestDuration { get; }
    public Gauge CacheEntries { get; }
    public Counter CacheHits { get; }
    public Counter CacheMisses { get; }
    public Counter CacheRequests { get; }
    public Counter CachePrefetch { get; }
    public Counter CacheServedStale { get; }
    public Counter CacheEvictions { get; }
    public Histogram ProxyDuration { get; }
    public Counter HealthCheckFailures { get; }
    public Counter HealthCheckBroken { get; }
    public Counter NodeCacheSetupErrors { get; }
    public Counter ReloadFailed { get; }
    public Counter Reloads { get; }
    public Gauge RestartPending { get; }
    public Gauge CacheBytes { get; }
    public Gauge CacheChunkBytes { get; }
    public Gauge CacheFailureEntries { get; }
    public Counter CacheFailureHits { get; }
    public Gauge InFlight { get; }
    public Counter Coalesced { get; }
    public Counter Overloaded { get; }
    public Counter Dropped { get; }
    public Gauge TcpConnections { get; }
    public Counter TcpAccepted { get; }
    public Counter TcpRejected { get; }
    public Counter SendErrors { get; }
    public Counter InternalErrors { get; }
    public Counter RefusedClients { get; }
    public Counter RateLimited { get; }
    public Counter UpstreamQueries { get; }
    public Counter UpstreamTimeouts { get; }
    public Counter UpstreamErrors { get; }
    public Counter UpstreamRejected { get; }
    public Counter UpstreamsMarkedDown { get; }
    public Counter MissesOffListener { get; }
    public Counter AutopathAnswers { get; }
    public Counter AutopathSaved { get; }
    public Counter NamespaceQueries { get; }
    public Counter NamespaceNxDomain { get; }
    public Counter NamespaceMisses { get; }
    public Counter UpstreamTcpRetries { get; }
    public Gauge UpstreamHealthy { get; }
    public Counter GcPause { get; }
    public Counter GcAllocated { get; }

    /// <summary>Copies the plain counters of the serving core into the registry before each scrape.</summary>
    public void PublishBeforeScrape(QueryPipeline pipeline, DnsCache cache, ForwarderCounters forwarder, ClientPolicy clients, Func<ZoneRouter> router,
        string server)
    {
        forwarder.AnswerObserved = ObserveUpstreamAnswer;
        forwarder.HealthCheckFailed = upstream => HealthCheckFailures.WithLabels("forward", upstream.EndPoint.ToString()).Inc();
        ServerCounters s = pipeline.Counters;
        _registry.AddBeforeCollectCallback(() =>
        {
            long hits = s.CacheHits;
            long negativeHits = s.NegativeHits;
            long failureHits = s.FailureHits;
            long misses = s.CacheMisses;
            CacheHits.WithLabels(server, "success", CacheZones, "").IncTo(hits);
            CacheHits.WithLabels(server, "denial", CacheZones, "").IncTo(negativeHits);
            CacheMisses.WithLabels(server, CacheZones, "").IncTo(misses + failureHits);
            CacheRequests.WithLabels(server, CacheZones, "").IncTo(hits + negativeHits + failureHits + misses);
            CachePrefetch.WithLabels(server, CacheZones, "").IncTo(Interlocked.Read(ref s.Prefetches));
            CacheServedStale.WithLabels(server, CacheZones, "").IncTo(Interlocked.Read(ref s.ServedStale));
            CacheEntries.WithLabels(server, "success", CacheZones, "").Set(cache.PositiveCount);
            CacheEntries.WithLabels(server, "denial", CacheZones, "").Set(cache.NegativeCount);
            CacheEvictions.WithLabels(server, "success", CacheZones, "").IncTo(cache.Evictions(EntryKind.Positive));
            CacheEvictions.WithLabels(server, "denial", CacheZones, "").IncTo(cache.Evictions(EntryKind.Negative));
            CacheBytes.Set(cache.Bytes);
            CacheChunkBytes.Set(cache.ChunkBytes);
            CacheFailureEntries.Set(cache.FailureCount);
            CacheFailureHits.IncTo(failureHits);
            InFlight.Set(pipeline.InFlight);
            Coalesced.IncTo(Interlocked.Read(ref s.Coalesced));
            Overloaded.IncTo(Interlocked.Read(ref s.Overloaded));
            Dropped.IncTo(Interlocked.Read(ref s.Dropped));
            long accepted = Interlocked.Read(ref s.TcpConnections);
            TcpAccepted.IncTo(accepted);
            TcpConnections.Set(accepted - Interlocked.Read(ref s.TcpConnectionsClosed));
            TcpRejected.IncTo(Interlocked.Read(ref s.TcpConnectionsRejected));
            SendErrors.IncTo(Interlocked.Read(ref s.SendErrors));
            MissesOffListener.IncTo(Interlocked.Read(ref s.MissesCompletedOffListener));
            AutopathAnswers.IncTo(s.AutopathAnswers);
            AutopathSaved.IncTo(Interlocked.Read(ref s.AutopathExpansionsSaved));
            InternalErrors.IncTo(Interlocked.Read(ref s.InternalErrors));
            RefusedClients.IncTo(Interlocked.Read(ref clients.Refused));
            RateLimited.IncTo(Interlocked.Read(ref clients.RateLimited));
            UpstreamQueries.IncTo(Interlocked.Read(ref forwarder.UpstreamQueries));
            UpstreamTimeouts.IncTo(Interlocked.Read(ref forwarder.UpstreamTimeouts));
            UpstreamErrors.IncTo(Interlocked.Read(ref forwarder.UpstreamErrors));
            UpstreamRejected.IncTo(Interlocked.Read(ref forwarder.RejectedReplies));
            UpstreamTcpRetries.IncTo(Interlocked.Read(ref forwarder.TcpRetriesAfterTruncation));
            HealthCheckBroken.IncTo(Interlocked.Read(ref forwarder.AllUpstreamsDown));
            UpstreamsMarkedDown.IncTo(Interlocked.Read(ref forwarder.UpstreamsMarkedDown));
            GcPause.IncTo(GC.GetTotalPauseDuration().TotalSeconds);
            GcAllocated.IncTo(GC.GetTotalAllocatedBytes());
            var published = new HashSet<(string, string)>();
            foreach (ZoneRoute route in router().Routes)
            {
                foreach (Upstream upstream in route.Pool.Upstreams)
                {
                    (string Zone, string To) labels = (route.ZoneText, upstream.Server.EndPoint.ToString());
                    UpstreamHealthy.WithLabels(labels.Zone, labels.To).Set(upstream.IsDown ? 0 : 1);
                    published.Add(labels);
                }
            }

            foreach ((string zone, string to) in _healthSeries.Where(labels => !published.Contains(labels)))
            {
                UpstreamHealthy.RemoveLabelled(zone, to); // an upstream a reload removed
            }

            _healthSeries = published;
        });
    }

    /// <summary>
    /// One upstream answer into coredns_proxy_request_duration_seconds: the series of an (upstream, rcode) pair is bound
    /// once, so a miss costs a lookup by the upstream and an Observe, not an endpoint string and a label search.
    /// </summary>
    private void ObserveUpstreamAnswer(UpstreamServer upstream, int rcode, TimeSpan duration)
    {
        Histogram.Child?[] byRcode = _proxyDurations.GetOrAdd(upstream, static _ => new Histogram.Child?[HeaderRcodes]);
        int index = Math.Clamp(rcode, 0, HeaderRcodes - 1);
        (byRcode[index] ??= ProxyDuration.WithLabels("forward", upstream.EndPoint.ToString(), Protocol.DnsRcode.Name(index))).Observe(duration.TotalSeconds);
    }

    private GcPauseWatch? _gcPauses;

    /// <summary>Records every garbage collection's pauses from now on (the daemon; not the tests' and benchmarks' metrics).</summary>
    public void WatchGcPauses() => _gcPauses ??= new GcPauseWatch(Metrics.WithCustomRegistry(_registry));

    /// <summary>Stops <see cref="WatchGcPauses"/>.</summary>
    public void StopWatchingGcPauses() => _gcPauses?.Stop();

    /// <summary>Publishes the dnstap writer's state at every scrape (only with --dnstap).</summary>
    public void PublishDnstap(NodeDns.Dnstap.DnstapWriter writer)
    {
        MetricFactory factory = Metrics.WithCustomRegistry(_registry);
        Gauge connected = factory.CreateGauge("nodedns_dnstap_connected", "1 while a dnstap reader is connected, 0 while NodeDns tries to reach one.");
        Counter sent = factory.CreateCounter("nodedns_dnstap_sent_total", "dnstap messages written to the reader.");
        Counter dropped = factory.CreateCounter("nodedns_dnstap_dropped_total",
            "dnstap messages dropped: the queue was full (no reader, or a slow one) or their connection failed.");
        Counter failures = factory.CreateCounter("nodedns_dnstap_connection_failures_total", "Failed attempts to reach the dnstap reader.");
        _registry.AddBeforeCollectCallback(() =>
        {
            connected.Set(writer.Connected ? 1 : 0);
            sent.IncTo(Interlocked.Read(ref writer.Sent));
            dropped.IncTo(writer.Dropped);
            failures.IncTo(Interlocked.Read(ref writer.ConnectionFailures));
        });
    }

    /// <summary>Publishes the pod watch's state at every scrape (only when the watch runs).</summary>
    public void PublishPodWatch(Kubernetes.NodePods pods, Kubernetes.PodWatchState state)
    {
        MetricFactory factory = Metrics.WithCustomRegistry(_registry);
        Gauge connected = factory.CreateGauge("nodedns_pod_watch_connected", "1 while the watch of this node's pods is open, 0 while it is being re-established.");
        Gauge known = factory.CreateGauge("nodedns_pod_watch_pods", "Pods of this node known from the watch (host-network pods included).");
        Gauge lastSync = factory.CreateGauge("nodedns_pod_watch_last_sync_timestamp_seconds", "When the pods of this node were last known to be current (Unix time).");
        Counter errors = factory.CreateCounter("nodedns_pod_watch_errors_total", "Failed lists or watches of this node's pods (retried with back-off).");
        Counter relists = factory.CreateCounter("nodedns_pod_watch_relists_total", "Lists made again because the watch's resourceVersion expired (410 Gone).");
        Counter events = factory.CreateCounter("nodedns_pod_watch_events_total", "Watch events applied (ADDED, MODIFIED, DELETED, BOOKMARK).");
        _registry.AddBeforeCollectCallback(() =>
        {
            connected.Set(state.Connected ? 1 : 0);
            known.Set(pods.Count);
            lastSync.Set(pods.LastSync?.ToUnixTimeMilliseconds() / 1000.0 ?? 0);
            errors.IncTo(Interlocked.Read(ref state.Errors));
            relists.IncTo(Interlocked.Read(ref state.Relists));
            events.IncTo(Interlocked.Read(ref state.Events));
        });
    }

    public async Task<byte[]> ScrapeAsync(CancellationToken cancellation)
    {
        using var stream = new MemoryStream();
        await _registry.CollectAndExportAsTextAsync(stream, cancellation).ConfigureAwait(false);
        return stream.ToArray();
    }
}
