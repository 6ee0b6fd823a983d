using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Pooling;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// Forwarding a missed question once however many clients ask: the table of questions in flight, the forward, and
/// what is cached from its outcome. A question and everything it uses are reused (see <see cref="InFlightQuestion"/>).
/// </summary>
public sealed partial class QueryPipeline
{
    /// <summary>Questions in flight by key. A plain dictionary under a lock: it allocates nothing per question.</summary>
    private readonly Dictionary<ReadOnlyMemory<byte>, InFlightQuestion> _inFlight = new(ByteKeyComparer.Instance);
    private readonly Lock _inFlightGate = new();
    private volatile int _inFlightCount;

    /// <summary>Questions kept for reuse: about as many as are in flight at once on a busy node.</summary>
    private readonly BoundedPool<InFlightQuestion> _idleQuestions = new(4096);

    /// <summary>
    /// Joins the forward already running for <paramref name="key"/> or starts one. With <paramref name="wait"/>, the
    /// caller holds the returned question until it has written its response and then calls
    /// <see cref="InFlightQuestion.Release"/>. Null when over a bound (or not waiting).
    /// </summary>
    private InFlightQuestion? Join(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key, UdpReactor? reactor,
        CancellationToken cancellation, bool wait)
    {
        InFlightQuestion? started;
        lock (_inFlightGate)
        {
            if (_inFlight.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out InFlightQuestion? running))
            {
                if (!wait)
                {
                    return null;
                }

                if (++running.Waiters > _options.MaxWaitersPerQuestion)
                {
                    Interlocked.Increment(ref Counters.Overloaded);
                    return null;
                }

                Interlocked.Increment(ref Counters.Coalesced);
                running.Hold();
                return running;
            }

            if (_inFlight.Count >= _options.MaxInFlight)
            {
                Interlocked.Increment(ref Counters.Overloaded);
                return null;
            }

            started = _idleQuestions.TryTake(out InFlightQuestion? idle) ? idle : new InFlightQuestion(this);
            started.Begin(query, info, key);
            _inFlight.Add(started.Key, started);
            _inFlightCount = _inFlight.Count;
            if (wait)
            {
                started.Waiters = 1;
                started.Hold();
            }
        }

        Forward(started, reactor, cancellation);
        return wait ? started : null;
    }

    private void Forward(InFlightQuestion question, UdpReactor? reactor, CancellationToken cancellation)
    {
        ValueTask<ForwardResult> forwarding;
        try
        {
            question.Route = _router().Route(question.Key.Span[..question.NameLength]);
            forwarding = _forwarder.ForwardAsync(question.Route.Pool, question.Upstream, cancellation, reactor);
        }
        catch (Exception e)
        {
            forwarding = ValueTask.FromResult(new ForwardResult(null, null, $"internal error: {e.Message}"));
            Interlocked.Increment(ref Counters.InternalErrors);
        }

        question.Await(forwarding);
    }

    /// <summary>The forward ended: cache the answer or the failure, and wake every waiter. Never throws.</summary>
    internal void OnForwarded(InFlightQuestion question)
    {
        try
        {
            ForwardResult result = question.TakeForwardResult();
            ReadOnlySpan<byte> key = question.Key.Span;
            if (result.Response is not { } response)
            {
                StoreFailure(question);
                return;
            }

            bool encoded = ResponseClassifier.TryClassify(response, key[..question.NameLength], question.Route.Ttl, out Classification classified);
            response.Return(); // what the classification encoded is in this thread's buffer, not in the message
            if (encoded)
            {
                Store(question, classified);
            }
            else
            {
                StoreFailure(question);
            }
        }
        catch (Exception e)
        {
            if (e is not OperationCanceledException)
            {
                Interlocked.Increment(ref Counters.InternalErrors); // answered SERVFAIL; the daemon goes on
            }
        }
        finally
        {
            lock (_inFlightGate)
            {
                _inFlight.Remove(question.Key);
                _inFlightCount = _inFlight.Count;
            }

            question.Complete();
            question.Release();
        }
    }

    /// <summary>Caches an answer (unless stale data is preferred to it) and keeps it for the waiters.</summary>
    private void Store(InFlightQuestion question, scoped in Classification classified)
    {
        if (classified.Kind == ResponseKind.Uncacheable)
        {
            question.SetAnswer(classified.Shape, classified.Data);
            return;
        }

        ReadOnlySpan<byte> key = question.Key.Span;
        long now = _time.GetTimestamp();
        if (classified.Kind == ResponseKind.Negative && _options.PreferPositiveStale && _cache.TryGetAny(key, out CacheEntry previous)
            && (previous.IsData ? previous : previous.Stale) is { Kind: EntryKind.Positive } positive && _cache.IsServableStale(positive, now))
        {
            StoreFailure(question); // the waiters get the stale positive answer
            return;
        }

        if (classified.Kind == ResponseKind.Failure)
        {
            StoreFailure(question);
            return;
        }

        _cache.Insert(key, classified.Shape, classified.Data, classified.Kind == ResponseKind.Positive ? EntryKind.Positive : EntryKind.Negative,
            classified.Ttl, zone: question.Route.Id);
        question.SetAnswer(classified.Shape, classified.Data);
    }

    /// <summary>
    /// A failure (RFC 9520 §3.2): remembered with back-off, keeping stale data to serve meanwhile, unless a fresh answer
    /// is still cached (a failed prefetch). The waiters get stale data or SERVFAIL.
    /// </summary>
    private void StoreFailure(InFlightQuestion question)
    {
        ReadOnlySpan<byte> key = question.Key.Span;
        long now = _time.GetTimestamp();
        CacheEntry? previous = _cache.TryGetAny(key, out CacheEntry found) ? found : null;
        if (previous is { Kind: not EntryKind.Failure } last && !last.IsExpired(now))
        {
            return;
        }

        CacheEntry? stale = previous is not { } kept ? null : kept.IsData ? kept : kept.Stale;
        int streak = previous is { Kind: EntryKind.Failure } failed ? failed.FailureStreak + 1 : 1;
        UpstreamQuestion asked = question.Upstream;
        if (ResponseTemplateBuilder.TryEncode(key[..question.NameLength], asked.Type, asked.Class, DnsRcode.ServFail, authenticData: false,
                new RecordObjects([]), 0, out TemplateShape shape, out ReadOnlySpan<byte> servfail))
        {
            _cache.Insert(key, shape, servfail, EntryKind.Failure, _cache.Options.FailureTtl(streak),
                stale is { } servable && _cache.IsServableStale(servable, now) ? servable : null, streak, question.Route.Id);
        }
    }

    /// <summary>Takes back a question whose forward and waiters are done.</summary>
    internal void Return(InFlightQuestion question) => _idleQuestions.TryReturn(question);
}
