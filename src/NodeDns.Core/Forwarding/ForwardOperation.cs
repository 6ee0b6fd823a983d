using System.Threading.Tasks.Sources;

namespace NodeDns.Forwarding;

/// <summary>
/// The tries of one forwarded question (see <see cref="Forwarder"/>), as a reusable object: a question costs no task,
/// timer, list or cancellation source of its own. One timer serves both the next-try delay and the deadline; the
/// cancellation source of the tries is reset for the next question, and replaced only after it was cancelled. The
/// object goes back to its forwarder's pool once the caller has its result and every try has ended.
/// </summary>
internal sealed class ForwardOperation : IValueTaskSource<ForwardResult>, IDisposable
{
    private readonly Forwarder _forwarder;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _gate = new();
    private ManualResetValueTaskSourceCore<ForwardResult> _completion;
    private CancellationTokenSource _tries = new();
    private CancellationTokenRegistration _callerLink;

    // A try's task and the continuation that reads it, by try number.
    private ValueTask<ForwardResult>[] _pending = [];
    private Action[] _onEnded = [];

    // Tries that ended and are not read yet.
    private readonly Queue<ValueTask<ForwardResult>> _ended = new(4);

    // The question in progress (a copy of the caller's); under _gate.
    private readonly UpstreamQuestion _question = new();
    private UpstreamPool _pool = null!;
    private UdpReactor? _reactor;
    private ForwarderOptions _options = null!;
    private CancellationToken _caller;
    private int _first;
    private int _started;
    private int _running;
    private long _deadlineAt;
    private long _timerDueAt = long.MaxValue;
    private bool _noMoreTries;
    private bool _finished;
    private bool _resultTaken;
    private ForwardResult? _lastFailure;

    public ForwardOperation(Forwarder forwarder, TimeProvider time)
    {
        _forwarder = forwarder;
        _time = time;
        _timer = time.CreateTimer(static s => ((ForwardOperation)s!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public ValueTask<ForwardResult> Start(UpstreamPool pool, UpstreamQuestion question, UdpReactor? reactor, ForwarderOptions options,
        CancellationToken cancellation)
    {
        var result = new ValueTask<ForwardResult>(this, _completion.Version);
        lock (_gate)
        {
            _pool = pool;
            _question.CopyFrom(question);
            _reactor = reactor;
            _options = options;
            _caller = cancellation;
            _first = pool.FirstIndex();
            _deadlineAt = _time.GetTimestamp() + Ticks(options.Deadline);
            EnsureTrySlots(Math.Max(1, options.MaxAttempts));
        }

        if (cancellation.CanBeCanceled)
        {
            _callerLink = cancellation.UnsafeRegister(static (s, token) => ((ForwardOperation)s!).OnCallerCancelled(token), this);
        }

        Advance(startTry: true);
        return result;
    }

    /// <summary>
    /// Reads the tries that ended, starts the next when one is due, and finishes when the question is answered or
    /// nothing is left to wait for. Decisions are taken under the lock; tries start and the caller is completed outside.
    /// </summary>
    private void Advance(bool startTry)
    {
        while (true)
        {
            Upstream? upstream = null;
            int attempt = 0;
            CancellationToken token = default;
            ForwardResult? outcome = null;
            bool cancelTries = false;
            lock (_gate)
            {
                while (!_finished && _ended.TryDequeue(out ValueTask<ForwardResult> ended))
                {
                    _running--;
                    ForwardResult result = ended.Result; // a try does not throw (Forwarder.AttemptAsync)
                    if (result.Response is not null)
                    {
                        outcome = result;
                        break;
                    }

                    _lastFailure = result;
                    startTry = true; // after a failure, the next try at once
                }

                if (_finished)
                {
                    DrainEnded();
                    RecycleIfDone();
                    return;
                }

                if (outcome is null && startTry && !_noMoreTries && (_started < _options.MaxAttempts || _started == 0))
                {
                    attempt = _started++;
                    _running++;
                    upstream = _pool.ForAttempt(_first, attempt);
                    token = _tries.Token;
                    ArmTimer(_time.GetTimestamp(), triesLeft: _started < _options.MaxAttempts);
                }
                else if (outcome is null && _running == 0)
                {
                    outcome = _lastFailure ?? new ForwardResult(null, null, "no upstream answered");
                }

                if (outcome is not null)
                {
                    DrainEnded();
                    _finished = true;
                    cancelTries = _running > 0;
                }
            }

            if (outcome is { } final)
            {
                Complete(final, cancelTries);
                return;
            }

            startTry = false;
            if (upstream is null)
            {
                return;
            }

            ValueTask<ForwardResult> running = _forwarder.AttemptAsync(upstream, _question, _reactor, token);
            if (running.IsCompleted)
            {
                lock (_gate)
                {
                    _ended.Enqueue(running);
                }

                continue;
            }

            _pending[attempt] = running;
            running.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onEnded[attempt]);
            return;
        }
    }

    private void OnTryEnded(int attempt)
    {
        lock (_gate)
        {
            _ended.Enqueue(_pending[attempt]);
            _pending[attempt] = default;
        }

        Advance(startTry: false);
    }

    /// <summary>The next-try delay or the deadline is due (or a stale firing of an earlier question's timer, ignored).</summary>
    private void OnTimer()
    {
        bool startTry = false;
        bool stop = false;
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            if (_finished || _timerDueAt == long.MaxValue)
            {
                return;
            }

            if (now < _timerDueAt)
            {
                SetTimer(now, _timerDueAt); // fired early by the timer's coarser clock, or a late firing for an earlier question
                return;
            }

            if (now >= _deadlineAt)
            {
                stop = true;
                _noMoreTries = true;
                _timerDueAt = long.MaxValue;
            }
            else if (_started < _options.MaxAttempts)
            {
                startTry = true;
            }
            else
            {
                ArmTimer(now, triesLeft: false);
            }
        }

        if (stop)
        {
            _tries.Cancel(); // the tries end as timed out; the last one to end finishes the question
        }
        else if (startTry)
        {
            Advance(startTry: true);
        }
    }

    private void OnCallerCancelled(CancellationToken token)
    {
        lock (_gate)
        {
            if (_finished || token != _caller)
            {
                return; // a late callback of an earlier question
            }

            _noMoreTries = true;
        }

        _tries.Cancel();
    }

    /// <summary>Next wake-up: the next try's start while tries are left, else the deadline. Under the lock.</summary>
    private void ArmTimer(long now, bool triesLeft)
    {
        long dueAt = triesLeft ? Math.Min(now + Ticks(_options.AttemptTimeout), _deadlineAt) : _deadlineAt;
        _timerDueAt = dueAt;
        SetTimer(now, dueAt);
    }

    /// <summary>At least a tick ahead: a timer due at once would call back into this object on the calling thread with some clocks.</summary>
    private void SetTimer(long now, long dueAt) =>
        _timer.Change(_time.GetElapsedTime(now, Math.Max(now + 1, dueAt)), Timeout.InfiniteTimeSpan);

    private void Complete(ForwardResult outcome, bool cancelTries)
    {
        _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _callerLink.Unregister();
        if (cancelTries)
        {
            _tries.Cancel(); // earlier tries still listening; they end on their own threads or here
        }

        if (outcome.Response is null && !_caller.IsCancellationRequested)
        {
            _forwarder.Counters.ForwardFailed?.Invoke(_question, outcome.Failure!);
        }

        _completion.SetResult(outcome); // the caller continues here and may take this object back (GetResult)
    }

    public ForwardResult GetResult(short token)
    {
        ForwardResult result = _completion.GetResult(token);
        lock (_gate)
        {
            _resultTaken = true;
            RecycleIfDone();
        }

        return result;
    }

    public ValueTaskSourceStatus GetStatus(short token) => _completion.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _completion.OnCompleted(continuation, state, token, flags);

    /// <summary>Under the lock: once the caller has the result and no try runs any more, ready for the next question.</summary>
    private void RecycleIfDone()
    {
        if (!_finished || !_resultTaken || _running > 0)
        {
            return;
        }

        if (!_tries.TryReset())
        {
            _tries.Dispose();
            _tries = new CancellationTokenSource();
        }

        _completion.Reset();
        _callerLink = default;
        _caller = default;
        _pool = null!;
        _reactor = null;
        _options = null!;
        _lastFailure = null;
        _started = 0;
        _noMoreTries = false;
        _finished = false;
        _resultTaken = false;
        _timerDueAt = long.MaxValue;
        _forwarder.Return(this);
    }

    /// <summary>Under the lock, after the question finished: the results of tries that ended late are not needed.</summary>
    private void DrainEnded()
    {
        while (_ended.TryDequeue(out ValueTask<ForwardResult> ended))
        {
            _running--;
            ended.Result.Response?.Return(); // taking the result also gives the try's state machine back to its pool
        }
    }

    private void EnsureTrySlots(int count)
    {
        if (_pending.Length >= count)
        {
            return;
        }

        _pending = new ValueTask<ForwardResult>[count];
        _onEnded = new Action[count];
        for (int i = 0; i < count; i++)
        {
            int attempt = i;
            _onEnded[i] = () => OnTryEnded(attempt);
        }
    }

    private long Ticks(TimeSpan duration) => (long)(duration.TotalSeconds * _time.TimestampFrequency);

    public void Dispose()
    {
        _timer.Dispose();
        _tries.Dispose();
    }
}
