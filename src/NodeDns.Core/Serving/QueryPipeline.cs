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

public sealed record PipelineOptions
{
    /// <summary>Distinct questions forwarded at once; beyond it a miss is answered SERVFAIL at once.</summary>
    public int MaxInFlight { get; init; } = 10_000;
}

/// <summary>
/// What happens to one client query: parse, answer errors, answer hits from the cache (allocation-free), and for
/// misses forward once per question however many clients ask (in-flight coalescing), cache, and answer each client
/// with its own ID and letter case.
/// </summary>
public sealed class QueryPipeline
{
    private readonly DnsCache _cache;
    private readonly Func<ZoneRouter> _router;
    private readonly Forwarder _forwarder;
    private readonly TimeProvider _time;
    private readonly PipelineOptions _options;
    private readonly ConcurrentDictionary<byte[], Task<ResponseTemplate?>> _inFlight = new(ByteKeyComparer.Instance);

    public QueryPipeline(DnsCache cache, Func<ZoneRouter> router, Forwarder forwarder, TimeProvider time, PipelineOptions options)
    {
        _cache = cache;
        _router = router;
        _forwarder = forwarder;
        _time = time;
        _options = options;
    }

    public ServerCounters Counters { get; } = new();
    public int InFlight => _inFlight.Count;

    /// <summary>
    /// The hot path. <paramref name="response"/> must hold <see cref="DnsLimits.MaxMessageLength"/> bytes and
    /// <paramref name="key"/> <see cref="QueryParser.MaxKeyLength"/> bytes; on a miss they keep the parsed query's key.
    /// </summary>
    public QueryOutcome Process(ReadOnlySpan<byte> query, bool overTcp, Span<byte> key, Span<byte> response,
        out int responseLength, out QueryInfo info)
    {
        responseLength = 0;
        QueryVerdict verdict = QueryParser.Parse(query, key, out info);
        if (verdict == QueryVerdict.Drop)
        {
            Interlocked.Increment(ref Counters.Dropped);
            return QueryOutcome.Dropped;
        }

        if (verdict != QueryVerdict.Resolve)
        {
            int rcode = ErrorResponse.RcodeFor(verdict);
            responseLength = ErrorResponse.Write(query, info, rcode, response);
            Counters.CountResponse(rcode);
            return QueryOutcome.Answered;
        }

        long now = _time.GetTimestamp();
        if (_cache.TryGet(key[..info.KeyLength], now, out CacheEntry entry))
        {
            uint elapsed = (uint)((now - entry.StoredAt) / _time.TimestampFrequency);
            responseLength = entry.Template.Write(query, info, elapsed, Limit(info, overTcp), response);
            Interlocked.Increment(ref Counters.CacheHits);
            Counters.CountResponse(entry.Template.Rcode);
            return QueryOutcome.Answered;
        }

        Interlocked.Increment(ref Counters.CacheMisses);
        return QueryOutcome.Miss;
    }

    /// <summary>Forwards (or joins the forward of) a missed question and returns the client's response.</summary>
    /// <param name="query">A copy of the client's query, as given to <see cref="Process"/>.</param>
    /// <param name="key">A copy of the key <see cref="Process"/> produced.</param>
    public async Task<byte[]> ResolveMissAsync(byte[] query, QueryInfo info, byte[] key, bool overTcp, CancellationToken cancellation)
    {
        ResponseTemplate? template = await ResolveAsync(query, info, key, cancellation).ConfigureAwait(false);
        byte[] buffer = new byte[template is null ? ErrorResponse.MaxLength : template.WireLength + DnsLimits.EmptyOptRecordLength];
        int length = template is null
            ? ErrorResponse.Write(query, info, DnsRcode.ServFail, buffer)
            : template.Write(query, info, 0, Limit(info, overTcp), buffer);
        Counters.CountResponse(template?.Rcode ?? DnsRcode.ServFail);
        return length == buffer.Length ? buffer : buffer[..length];
    }

    private Task<ResponseTemplate?> ResolveAsync(byte[] query, QueryInfo info, byte[] key, CancellationToken cancellation)
    {
        while (true)
        {
            if (_inFlight.TryGetValue(key, out Task<ResponseTemplate?>? running))
            {
                Interlocked.Increment(ref Counters.Coalesced);
                return running;
            }

            if (_inFlight.Count >= _options.MaxInFlight)
            {
                Interlocked.Increment(ref Counters.Overloaded);
                return Task.FromResult<ResponseTemplate?>(null);
            }

            var started = new TaskCompletionSource<ResponseTemplate?>(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_inFlight.TryAdd(key, started.Task))
            {
                _ = ForwardAsync(query, info, key, started, cancellation);
                return started.Task;
            }
        }
    }

    private async Task ForwardAsync(byte[] query, QueryInfo info, byte[] key, TaskCompletionSource<ResponseTemplate?> completion,
        CancellationToken cancellation)
    {
        ResponseTemplate? template = null;
        try
        {
            byte[] clientName = query[DnsLimits.HeaderLength..(DnsLimits.HeaderLength + info.NameLength)];
            var question = new UpstreamQuestion(clientName, info.Type, info.Class, info.DnssecOk, info.CheckingDisabled);
            ZoneRoute route = _router().Route(clientName);
            ForwardResult result = await _forwarder.ForwardAsync(route.Pool, question, cancellation).ConfigureAwait(false);
            if (result.Response is not null)
            {
                ReadOnlySpan<byte> lowerName = key.AsSpan(0, info.NameLength);
                ClassifiedResponse? classified = ResponseClassifier.Classify(result.Response, lowerName, route.Ttl);
                template = classified?.Template;
                if (classified is { Kind: ResponseKind.Positive or ResponseKind.Negative })
                {
                    _cache.Insert(key, classified.Template, classified.Kind == ResponseKind.Negative, classified.Ttl);
                }
            }
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

    private static int Limit(in QueryInfo info, bool overTcp) => overTcp ? DnsLimits.MaxMessageLength : info.UdpResponseLimit;
}
