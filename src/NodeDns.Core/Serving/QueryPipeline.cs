using System.Collections.Concurrent;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Serving;

public enum QueryOutcome : byte
{
    /// <summary>The response is in the buffer.</summary>
    Answered,

    /// <summary>Nothing to send.</summary>
    Dropped,

    /// <summary>Not in the cache: call <see cref="QueryPipeline.ResolveMissAsync"/>.</summary>
    Miss,
}

/// <summary>
/// What happens to one client query: parse, answer errors, answer hits from the cache (allocation-free; cached
/// failures and stale answers too), refresh popular entries before they expire, and for misses forward once per
/// question however many clients ask, cache the answer or the failure, and answer each client with its own ID and
/// letter case — with stale data after <see cref="PipelineOptions.StaleAnswerAfter"/> when the upstream is slow.
/// </summary>
public sealed partial class QueryPipeline
{
    private readonly DnsCache _cache;
    private readonly Func<ZoneRouter> _router;
    private readonly Forwarder _forwarder;
    private readonly TimeProvider _time;
    private volatile PipelineOptions _options;
    private readonly ConcurrentDictionary<byte[], InFlightQuestion> _inFlight = new(ByteKeyComparer.Instance);
    private readonly IQueryObserver? _observer;
    private readonly ClientPolicy? _clients;

    /// <param name="searchPaths">The search lists of the node's pods, for autopath; null turns it off.</param>
    public QueryPipeline(DnsCache cache, Func<ZoneRouter> router, Forwarder forwarder, TimeProvider time, PipelineOptions options,
        IQueryObserver? observer = null, ClientPolicy? clients = null, ISearchPaths? searchPaths = null)
    {
        _searchPaths = searchPaths;
        _observer = observer;
        _clients = clients;
        _cache = cache;
        _router = router;
        _forwarder = forwarder;
        _time = time;
        _options = options;
    }

    public ServerCounters Counters { get; } = new();

    /// <summary>Where the listeners log client queries and responses for dnstap; null when dnstap is off.</summary>
    public Dnstap.DnstapLog? Dnstap { get; init; }

    /// <summary>Replaced as a whole on reload; queries in progress keep the options they started with.</summary>
    public PipelineOptions Options
    {
        get => _options;
        set => _options = value;
    }
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// The hot path. <paramref name="response"/> must hold <see cref="DnsLimits.MaxMessageLength"/> bytes and
    /// <paramref name="key"/> <see cref="QueryParser.MaxKeyLength"/> bytes; on a miss they keep the parsed query's key.
    /// </summary>
    public QueryOutcome Process(ReadOnlySpan<byte> query, in ClientContext client, Span<byte> key, Span<byte> response,
        out int responseLength, out QueryInfo info)
    {
        responseLength = 0;
        long now = _time.GetTimestamp();
        QueryVerdict verdict = QueryParser.Parse(query, key, out info);
        info.ReceivedAt = now;
        if (verdict == QueryVerdict.Drop)
        {
            Interlocked.Increment(ref Counters.Dropped);
            return QueryOutcome.Dropped;
        }

        if (verdict != QueryVerdict.Resolve || (_clients is not null && !_clients.IsAllowed(client.Address)))
        {
            int rcode = verdict == QueryVerdict.Resolve ? Refuse() : ErrorResponse.RcodeFor(verdict);
            responseLength = ErrorResponse.Write(query, info, rcode, response);
            _observer?.Answered(client, ZoneId.Root, QuestionName(query, info), info.Type, rcode, AnswerSource.Error, now);
            return QueryOutcome.Answered;
        }

        if (info.Type == DnsType.ANY && !client.OverTcp)
        {
            responseLength = MinimalAnyResponse.Write(query, info, response);
            _observer?.Answered(client, ZoneId.Root, QuestionName(query, info), info.Type, DnsRcode.NoError, AnswerSource.Error, now);
            return QueryOutcome.Answered;
        }

        if (!TryGetCached(client, info, key, now, out CacheEntry entry, out bool autopathed))
        {
            Counters.Misses.Increment();
            return QueryOutcome.Miss;
        }

        int limit = Limit(info, client.OverTcp);
        if (entry.Kind == EntryKind.Failure)
        {
            Counters.FailureHitCount.Increment();
            responseLength = entry.Stale is { } stale && _cache.IsServableStale(stale, now)
                ? WriteStale(stale, query, info, limit, response)
                : entry.Template.Write(query, info, 0, limit, response);
        }
        else
        {
            (entry.Kind == EntryKind.Positive ? Counters.Hits : Counters.NegativeHitCount).Increment();
            if (autopathed && entry.Kind == EntryKind.Positive)
            {
                Counters.Autopathed.Increment();
            }

            uint elapsed = (uint)((now - entry.StoredAt) / _time.TimestampFrequency);
            responseLength = entry.Template.Write(query, info, elapsed, limit, response);
            if (!autopathed && ShouldPrefetch(entry, now))
            {
                StartPrefetch(query, info, key[..info.KeyLength]);
            }
        }

        _observer?.Answered(client, entry.Zone, QuestionName(query, info), info.Type, DnsHeader.Rcode(DnsHeader.Flags(response)), AnswerSource.Cache, now);
        return QueryOutcome.Answered;
    }

    /// <summary>Forwards (or joins the forward of) a missed question and returns the client's response.</summary>
    /// <param name="query">A copy of the client's query, as given to <see cref="Process"/>.</param>
    /// <param name="key">A copy of the key <see cref="Process"/> produced.</param>
    public async Task<byte[]> ResolveMissAsync(byte[] query, QueryInfo info, byte[] key, ClientContext client, CancellationToken cancellation)
    {
        if (_clients is not null && !_clients.TryTakeMiss(client.Address))
        {
            byte[] refused = new byte[ErrorResponse.MaxLength];
            int refusedLength = ErrorResponse.Write(query, info, DnsRcode.Refused, refused);
            _observer?.Answered(client, ZoneId.Root, QuestionName(query, info), info.Type, DnsRcode.Refused, AnswerSource.Error, info.ReceivedAt);
            return refused[..refusedLength];
        }

        return _searchPaths is not null && AutopathFor(client, info, key) is { } searchList
            ? await ResolveWithAutopathAsync(query, info, key, client, searchList, cancellation).ConfigureAwait(false)
            : await ResolvePlainAsync(query, info, key, client, cancellation).ConfigureAwait(false);
    }

    /// <summary>Forwards (or joins the forward of) the question as it was asked; stale data or SERVFAIL when that fails.</summary>
    private async Task<byte[]> ResolvePlainAsync(byte[] query, QueryInfo info, byte[] key, ClientContext client, CancellationToken cancellation)
    {
        CacheEntry? stale = StaleFor(key, _time.GetTimestamp());
        Task<ResponseTemplate?>? forwarding = Join(query, info, key, client.Reactor, cancellation);
        ResponseTemplate? template = null;
        if (forwarding is not null)
        {
            if (stale is null)
            {
                template = await forwarding.ConfigureAwait(false);
            }
            else
            {
                Task timer = Task.Delay(_options.StaleAnswerAfter, _time, cancellation);
                if (await Task.WhenAny(forwarding, timer).ConfigureAwait(false) == forwarding)
                {
                    template = await forwarding.ConfigureAwait(false);
                }
            }
        }

        int limit = Limit(info, client.OverTcp);
        byte[] buffer;
        int length;
        if (template is null && stale is not null)
        {
            buffer = new byte[stale.Template.WireLength + DnsLimits.EmptyOptRecordLength];
            length = WriteStale(stale, query, info, limit, buffer);
        }
        else if (template is null)
        {
            buffer = new byte[ErrorResponse.MaxLength];
            length = ErrorResponse.Write(query, info, DnsRcode.ServFail, buffer);
        }
        else
        {
            buffer = new byte[template.WireLength + DnsLimits.EmptyOptRecordLength];
            length = template.Write(query, info, 0, limit, buffer);
        }

        if (_observer is not null)
        {
            ZoneRoute route = _router().Route(key.AsSpan(0, info.NameLength));
            AnswerSource source = template is null && stale is not null ? AnswerSource.Cache : AnswerSource.Forward;
            _observer.Answered(client, route.Id, QuestionName(query, info), info.Type, DnsHeader.Rcode(DnsHeader.Flags(buffer)), source, info.ReceivedAt);
        }

        return length == buffer.Length ? buffer : buffer[..length];
    }

    private int Refuse()
    {
        Interlocked.Increment(ref _clients!.Refused);
        return DnsRcode.Refused;
    }

    private int WriteStale(CacheEntry stale, ReadOnlySpan<byte> query, in QueryInfo info, int limit, Span<byte> destination)
    {
        Interlocked.Increment(ref Counters.ServedStale);
        return stale.Template.Write(query, info, 0, limit, destination, _options.StaleTtl);
    }

    /// <summary>Expired answer data for <paramref name="key"/> that may still be served, directly or kept by a failure entry.</summary>
    private CacheEntry? StaleFor(byte[] key, long now)
    {
        if (!_cache.TryGetAny(key, out CacheEntry entry))
        {
            return null;
        }

        CacheEntry? data = entry.IsData ? entry : entry.Stale;
        return data is not null && _cache.IsServableStale(data, now) ? data : null;
    }

    private bool ShouldPrefetch(CacheEntry entry, long now)
    {
        PipelineOptions options = _options;
        if (options.PrefetchHits <= 0)
        {
            return false;
        }

        if (now - entry.HitWindowStart > (long)(options.PrefetchWindow.TotalSeconds * _time.TimestampFrequency))
        {
            entry.HitWindowStart = now;
            entry.Hits = 1;
        }
        else
        {
            entry.Hits++;
        }

        long remaining = entry.ExpiresAt - now;
        long threshold = Math.Max(_time.TimestampFrequency, entry.Ttl * _time.TimestampFrequency * options.PrefetchPercent / 100);
        return entry.Hits >= options.PrefetchHits
            && remaining <= threshold
            && Interlocked.CompareExchange(ref entry.Refreshing, 1, 0) == 0;
    }

    private void StartPrefetch(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key)
    {
        Interlocked.Increment(ref Counters.Prefetches);
        Join(query.ToArray(), info, key.ToArray(), reactor: null, CancellationToken.None);
    }

    /// <summary>Joins the forward already running for <paramref name="key"/> or starts one; null when over a bound.</summary>
    private Task<ResponseTemplate?>? Join(byte[] query, QueryInfo info, byte[] key, UdpReactor? reactor, CancellationToken cancellation)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(key, out InFlightQuestion? running))
            {
                if (Interlocked.Increment(ref running.Waiters) > _options.MaxWaitersPerQuestion)
                {
                    Interlocked.Increment(ref Counters.Overloaded);
                    return null;
                }

                Interlocked.Increment(ref Counters.Coalesced);
                return running.Completion.Task;
            }

            if (_inFlight.Count >= _options.MaxInFlight)
            {
                Interlocked.Increment(ref Counters.Overloaded);
                return null;
            }

            var started = new InFlightQuestion();
            if (_inFlight.TryAdd(key, started))
            {
                _ = ForwardAsync(query, info, key, started.Completion, reactor, cancellation);
                return started.Completion.Task;
            }
        }
    }

    /// <summary>Asks upstream, caches the answer or the failure, and completes every waiter. Never throws.</summary>
    private async Task ForwardAsync(byte[] query, QueryInfo info, byte[] key, TaskCompletionSource<ResponseTemplate?> completion,
        UdpReactor? reactor, CancellationToken cancellation)
    {
        ResponseTemplate? template = null;
        try
        {
            byte[] clientName = query[DnsLimits.HeaderLength..(DnsLimits.HeaderLength + info.NameLength)];
            var question = new UpstreamQuestion(clientName, info.Type, info.Class, info.DnssecOk, info.CheckingDisabled);
            ZoneRoute route = _router().Route(clientName);
            ForwardResult result = await _forwarder.ForwardAsync(route.Pool, question, cancellation, reactor).ConfigureAwait(false);
            ClassifiedResponse? classified = result.Response is null
                ? null
                : ResponseClassifier.Classify(result.Response, key.AsSpan(0, info.NameLength), route.Ttl);
            template = Store(key, info, classified, route);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Interlocked.Increment(ref Counters.InternalErrors); // answered SERVFAIL; the daemon goes on
        }
        finally
        {
            _inFlight.TryRemove(key, out _);
            completion.TrySetResult(template);
        }
    }

    /// <returns>The template to answer with, or null for a failure (SERVFAIL, or stale data when there is some).</returns>
    private ResponseTemplate? Store(byte[] key, in QueryInfo info, ClassifiedResponse? classified, ZoneRoute route)
    {
        _cache.TryGetAny(key, out CacheEntry? previous);
        long now = _time.GetTimestamp();
        CacheEntry? stale = previous is null ? null : previous.IsData ? previous : previous.Stale;
        bool preferStale = _options.PreferPositiveStale && classified?.Kind == ResponseKind.Negative
            && stale is { Kind: EntryKind.Positive } && _cache.IsServableStale(stale, now);

        if (classified is { Kind: ResponseKind.Positive or ResponseKind.Negative } && !preferStale)
        {
            _cache.Insert(key, classified.Template, classified.Kind == ResponseKind.Positive ? EntryKind.Positive : EntryKind.Negative,
                classified.Ttl, zone: route.Id);
            return classified.Template;
        }

        if (classified is { Kind: ResponseKind.Uncacheable })
        {
            return classified.Template;
        }

        // A failure (RFC 9520 §3.2): remember it with back-off, unless a fresh answer is still cached (a failed prefetch).
        if (previous is null || previous.Kind == EntryKind.Failure || previous.IsExpired(now))
        {
            int streak = previous is { Kind: EntryKind.Failure } ? previous.FailureStreak + 1 : 1;
            ResponseTemplate servfail = ResponseTemplateBuilder.Build(key.AsSpan(0, info.NameLength), info.Type, info.Class,
                DnsRcode.ServFail, authenticData: false, [], 0)!;
            _cache.Insert(key, servfail, EntryKind.Failure, _cache.Options.FailureTtl(streak),
                stale is not null && _cache.IsServableStale(stale, now) ? stale : null, streak, route.Id);
        }

        return null;
    }

    private static int Limit(in QueryInfo info, bool overTcp) => overTcp ? DnsLimits.MaxMessageLength : info.UdpResponseLimit;

    private sealed class InFlightQuestion
    {
        /// <summary>Waiters continue on the thread that completes it (a UDP listener's reactor): no thread switch.</summary>
        public readonly TaskCompletionSource<ResponseTemplate?> Completion = new();
        public int Waiters = 1;
    }

    /// <summary>The question name of a query that parsed that far, else empty.</summary>
    private static ReadOnlySpan<byte> QuestionName(ReadOnlySpan<byte> query, in QueryInfo info) =>
        info.NameLength > 0 ? query.Slice(DnsLimits.HeaderLength, info.NameLength) : [];
}
