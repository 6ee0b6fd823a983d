using System.Runtime.CompilerServices;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// One question being forwarded and the clients waiting for its answer, reused from question to question: its key,
/// the question sent upstream, the answer's template bytes once they are in, and the waiters' continuations. Any
/// number of waiters await it (a <see cref="ValueTask"/> allows one); each then writes its own response from the
/// answer and lets go. It is held by the forward and by each waiter, and the last to let go gives it back to the
/// pipeline, so no waiter can read an answer that the next question overwrites.
/// </summary>
internal sealed class InFlightQuestion
{
    private readonly Lock _gate = new();
    private readonly List<Action> _continuations = new(4);
    private readonly byte[] _key = new byte[QueryParser.MaxKeyLength];
    private readonly QueryPipeline _pipeline;
    private readonly Action _onForwarded;
    private byte[] _answer = new byte[512];
    private TemplateShape _shape;
    private bool _hasAnswer;
    private bool _completed;
    private int _holders;
    private ConfiguredValueTaskAwaitable<ForwardResult>.ConfiguredValueTaskAwaiter _forwarding;

    public InFlightQuestion(QueryPipeline pipeline)
    {
        _pipeline = pipeline;
        _onForwarded = () => _pipeline.OnForwarded(this);
    }

    /// <summary>The question as it is sent upstream (the first client's letter case).</summary>
    public UpstreamQuestion Upstream { get; } = new();

    /// <summary>The cache key (see <see cref="CacheKey"/>); the in-flight table's key while the question is in it.</summary>
    public ReadOnlyMemory<byte> Key => _key.AsMemory(0, KeyLength);

    public int KeyLength { get; private set; }

    /// <summary>Bytes of the (lower-case) name at the start of <see cref="Key"/>.</summary>
    public int NameLength { get; private set; }

    public ZoneRoute Route { get; set; } = null!;

    /// <summary>Clients waiting, counted against <see cref="PipelineOptions.MaxWaitersPerQuestion"/>; under the pipeline's in-flight lock.</summary>
    public int Waiters { get; set; }

    public bool IsCompleted => Volatile.Read(ref _completed);

    /// <summary>Whether the forward brought an answer to serve (else the waiters serve stale data or SERVFAIL).</summary>
    public bool HasAnswer => _hasAnswer;

    /// <summary>Sets a new or given-back question up, held by its forward.</summary>
    public void Begin(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key)
    {
        key.CopyTo(_key);
        KeyLength = key.Length;
        NameLength = info.NameLength;
        Upstream.Set(query.Slice(DnsLimits.HeaderLength, info.NameLength), info.Type, info.Class, info.DnssecOk, info.CheckingDisabled);
        Waiters = 0;
        _hasAnswer = false;
        _completed = false;
        _holders = 1;
    }

    /// <summary>A waiter holds the question until it wrote its response (see <see cref="Release"/>).</summary>
    public void Hold() => Interlocked.Increment(ref _holders);

    /// <summary>Lets go of the question; the last holder gives it back to the pipeline.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _holders) == 0)
        {
            _continuations.Clear();
            Route = null!;
            _pipeline.Return(this);
        }
    }

    /// <summary>Waits for the forward's outcome; <see cref="QueryPipeline.OnForwarded"/> is called with it (here, or where it completes).</summary>
    public void Await(ValueTask<ForwardResult> forwarding)
    {
        _forwarding = forwarding.ConfigureAwait(false).GetAwaiter();
        if (_forwarding.IsCompleted)
        {
            _onForwarded();
        }
        else
        {
            _forwarding.UnsafeOnCompleted(_onForwarded);
        }
    }

    /// <summary>The forward's outcome, once: taking it lets the forwarder reuse what it used.</summary>
    public ForwardResult TakeForwardResult()
    {
        try
        {
            return _forwarding.GetResult();
        }
        finally
        {
            _forwarding = default;
        }
    }

    /// <summary>Keeps a copy of the answer's template bytes for the waiters; before <see cref="Complete"/>.</summary>
    public void SetAnswer(TemplateShape shape, ReadOnlySpan<byte> data)
    {
        if (data.Length > _answer.Length)
        {
            _answer = new byte[Math.Max(data.Length, _answer.Length * 2)];
        }

        data.CopyTo(_answer);
        _shape = shape;
        _hasAnswer = true;
    }

    /// <summary>Writes a waiter's response from the answer (see <see cref="ResponseTemplate.Write"/>); only when <see cref="HasAnswer"/>.</summary>
    public int WriteAnswer(ReadOnlySpan<byte> query, in QueryInfo info, int limit, Span<byte> destination)
    {
        int length = new TemplateView(_answer.AsSpan(0, _shape.DataLength), _shape).Write(query, info, 0, limit, destination, 0);
        return length >= 0 ? length : throw new ArgumentException("the destination or the query does not fit the answer");
    }

    /// <summary>A copy of the answer that outlives the question (autopath keeps it across further lookups).</summary>
    public ResponseTemplate? CopyAnswer() => _hasAnswer ? new ResponseTemplate(_answer.AsSpan(0, _shape.DataLength).ToArray(), _shape) : null;

    /// <summary>Wakes every waiter; they continue on this thread, as they registered.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            _completed = true;
        }

        // No continuation is added once completed: the list is read without the lock from here on.
        foreach (Action continuation in _continuations)
        {
            continuation();
        }
    }

    public Awaiter GetAwaiter() => new(this);

    /// <summary>Completes when the question does (a waiter with a timer of its own races it against that).</summary>
    public Task AsTask()
    {
        var completion = new TaskCompletionSource();
        OnCompleted(completion.SetResult);
        return completion.Task;
    }

    private void OnCompleted(Action continuation)
    {
        lock (_gate)
        {
            if (!_completed)
            {
                _continuations.Add(continuation);
                return;
            }
        }

        // Completed meanwhile: run it elsewhere rather than re-entering the awaiting method from inside its own await.
        ThreadPool.UnsafeQueueUserWorkItem(static action => action(), continuation, preferLocal: true);
    }

    public readonly struct Awaiter(InFlightQuestion question) : ICriticalNotifyCompletion
    {
        public bool IsCompleted => question.IsCompleted;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => question.OnCompleted(continuation);

        public void UnsafeOnCompleted(Action continuation) => question.OnCompleted(continuation);
    }
}
