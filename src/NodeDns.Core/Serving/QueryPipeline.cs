using System.Runtime.CompilerServices;
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
    /// <summary>Lookups of a hit before it counts as a miss: an entry replaced between lookup and copy is looked up again.</summary>
    private const int CachedReadAttempts = 3;

    private readonly DnsCache _cache;
    private readonly Func<ZoneRouter> _router;
    private readonly Forwarder _forwarder;
    private readonly TimeProvider _time;
    private volatile PipelineOptions _options;
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
    public int InFlight => _inFlightCount;

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

        int limit = Limit(info, client.OverTcp);
        CacheEntry entry;
        bool autopathed;
        bool servedStale;
        int attempt = 0;
        bool found;
        do
        {
            servedStale = false;
            found = TryGetCached(client, info, key, now, out entry, out autopathed);
            responseLength = found ? WriteCached(entry, query, info, now, limit, response, out servedStale) : -1;
        }
        while (found && responseLength < 0 && ++attempt < CachedReadAttempts);

        if (responseLength < 0)
        {
            // Not cached, or the entry changed under every read: forward it.
            responseLength = 0;
            Counters.Misses.Increment();
            return QueryOutcome.Miss;
        }

        if (entry.Kind == EntryKind.Failure)
        {
            Counters.FailureHitCount.Increment();
            if (servedStale)
            {
                Interlocked.Increment(ref Counters.ServedStale);
            }
        }
        else
        {
            (entry.Kind == EntryKind.Positive ? Counters.Hits : Counters.NegativeHitCount).Increment();
            if (autopathed && entry.Kind == EntryKind.Positive)
            {
                Counters.Autopathed.Increment();
            }

            if (!autopathed && ShouldPrefetch(entry, now))
            {
                StartPrefetch(query, info, key[..info.KeyLength]);
            }
        }

        _observer?.Answered(client, entry.Zone, QuestionName(query, info), info.Type, DnsHeader.Rcode(DnsHeader.Flags(response)), AnswerSource.Cache, now);
        return QueryOutcome.Answered;
    }

    /// <summary>Serves a cached entry (a failure's stale data when it has some); -1 when the entry changed since it was found.</summary>
    private int WriteCached(in CacheEntry entry, ReadOnlySpan<byte> query, in QueryInfo info, long now, int limit, Span<byte> response,
        out bool servedStale)
    {
        servedStale = false;
        if (entry.Kind != EntryKind.Failure)
        {
            uint elapsed = (uint)((now - entry.StoredAt) / _time.TimestampFrequency);
            return entry.TryWrite(query, info, elapsed, limit, response);
        }

        if (entry.Stale is { } stale && _cache.IsServableStale(stale, now))
        {
            servedStale = true;
            return stale.TryWrite(query, info, 0, limit, response, _options.StaleTtl);
        }

        return entry.TryWrite(query, info, 0, limit, response);
    }

    /// <summary>Forwards (or joins the forward of) a missed question and writes the client's response.</summary>
    /// <param name="query">The client's query, as given to <see cref="Process"/>; the caller keeps it until this completes.</param>
    /// <param name="key">The key <see cref="Process"/> produced, kept likewise.</param>
    /// <param name="answer">
    /// Where the response goes: <see cref="DnsLimits.EdnsUdpPayload"/> bytes for a UDP client, <see cref="MaxAnswerLength"/>
    /// over TCP.
    /// </param>
    /// <returns>The response's length; await it once.</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ResolveMissAsync(ReadOnlyMemory<byte> query, QueryInfo info, ReadOnlyMemory<byte> key, ClientContext client,
        Memory<byte> answer, CancellationToken cancellation)
    {
        if (_clients is not null && !_clients.TryTakeMiss(client.Address))
        {
            _observer?.Answered(client, ZoneId.Root, QuestionName(query.Span, info), info.Type, DnsRcode.Refused, AnswerSource.Error, info.ReceivedAt);
            return ErrorResponse.Write(query.Span, info, DnsRcode.Refused, answer.Span);
        }

        return _searchPaths is not null && AutopathFor(client, info, key.Span) is { } searchList
            ? await ResolveWithAutopathAsync(query, info, key, client, searchList, answer, cancellation).ConfigureAwait(false)
            : await ResolvePlainAsync(query, info, key, client, answer, cancellation).ConfigureAwait(false);
    }

    /// <summary>The longest response to a client: a TCP message and our OPT record.</summary>
    public const int MaxAnswerLength = DnsLimits.MaxMessageLength + DnsLimits.EmptyOptRecordLength;

    /// <summary>Forwards (or joins the forward of) the question as it was asked; stale data or SERVFAIL when that fails.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ResolvePlainAsync(ReadOnlyMemory<byte> query, QueryInfo info, ReadOnlyMemory<byte> key, ClientContext client,
        Memory<byte> answer, CancellationToken cancellation)
    {
        ResponseTemplate? stale = StaleFor(key.Span, _time.GetTimestamp());
        InFlightQuestion? question = Join(query.Span, info, key.Span, client.Reactor, cancellation, wait: true);
        if (question is not null && stale is null)
        {
            await question;
        }
        else if (question is not null)
        {
            Task timer = Task.Delay(_options.StaleAnswerAfter, _time, cancellation);
            await Task.WhenAny(question.AsTask(), timer).ConfigureAwait(false);
        }

        return WritePlain(query.Span, info, key.Span, client, question, stale, answer.Span);
    }

    /// <summary>The response from the forward's answer, else stale data, else SERVFAIL; lets go of the question.</summary>
    private int WritePlain(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key, in ClientContext client, InFlightQuestion? question,
        ResponseTemplate? stale, Span<byte> answer)
    {
        int limit = Limit(info, client.OverTcp);
        bool answered = question is { IsCompleted: true, HasAnswer: true };
        int length = answered ? question!.WriteAnswer(query, info, limit, answer)
            : stale is not null ? WriteStale(stale, query, info, limit, answer)
            : ErrorResponse.Write(query, info, DnsRcode.ServFail, answer);
        question?.Release();
        if (_observer is not null)
        {
            ZoneRoute route = _router().Route(key[..info.NameLength]);
            AnswerSource source = !answered && stale is not null ? AnswerSource.Cache : AnswerSource.Forward;
            _observer.Answered(client, route.Id, QuestionName(query, info), info.Type, DnsHeader.Rcode(DnsHeader.Flags(answer)), source, info.ReceivedAt);
        }

        return length;
    }

    private int Refuse()
    {
        Interlocked.Increment(ref _clients!.Refused);
        return DnsRcode.Refused;
    }

    private int WriteStale(ResponseTemplate stale, ReadOnlySpan<byte> query, in QueryInfo info, int limit, Span<byte> destination)
    {
        Interlocked.Increment(ref Counters.ServedStale);
        return stale.Write(query, info, 0, limit, destination, _options.StaleTtl);
    }

    /// <summary>
    /// A copy of the expired answer data for <paramref name="key"/> that may still be served, directly or kept by a
    /// failure entry (a copy: the forward that follows may replace the entry).
    /// </summary>
    private ResponseTemplate? StaleFor(ReadOnlySpan<byte> key, long now)
    {
        if (!_cache.TryGetAny(key, out CacheEntry entry))
        {
            return null;
        }

        CacheEntry? data = entry.IsData ? entry : entry.Stale;
        return data is { } servable && _cache.IsServableStale(servable, now) && servable.TryCopyTemplate(out ResponseTemplate copy) ? copy : null;
    }

    private bool ShouldPrefetch(CacheEntry entry, long now)
    {
        PipelineOptions options = _options;
        if (options.PrefetchHits <= 0)
        {
            return false;
        }

        int hits = entry.CountHit(now, (long)(options.PrefetchWindow.TotalSeconds * _time.TimestampFrequency));
        long remaining = entry.ExpiresAt - now;
        long threshold = Math.Max(_time.TimestampFrequency, entry.Ttl * _time.TimestampFrequency * options.PrefetchPercent / 100);
        return hits >= options.PrefetchHits && remaining <= threshold && entry.TryStartRefresh();
    }

    private void StartPrefetch(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key)
    {
        Interlocked.Increment(ref Counters.Prefetches);
        Join(query, info, key, reactor: null, CancellationToken.None, wait: false);
    }

    private static int Limit(in QueryInfo info, bool overTcp) => overTcp ? DnsLimits.MaxMessageLength : info.UdpResponseLimit;

    /// <summary>The question name of a query that parsed that far, else empty.</summary>
    private static ReadOnlySpan<byte> QuestionName(ReadOnlySpan<byte> query, in QueryInfo info) =>
        info.NameLength > 0 ? query.Slice(DnsLimits.HeaderLength, info.NameLength) : [];
}
