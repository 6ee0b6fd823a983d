using System.Collections.Concurrent;
using System.Net;
using System.Runtime.InteropServices;
using NodeDns.Interop;
using NodeDns.Pooling;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// Runs upstream UDP queries on raw non-blocking sockets watched by one epoll set, and completes each query on the
/// thread that polls it. A UDP listener thread owns a reactor and polls it together with its listening socket; its
/// misses carry that reactor (<see cref="Serving.ClientContext.Reactor"/>), so a miss is sent, answered and relayed
/// without a thread switch. Queries that carry none (TCP, probes, prefetch) go to <see cref="Shared"/>, which has a
/// thread of its own. A query may be started from any thread; only its owner defers sends to its turn's end.
/// </summary>
public sealed unsafe partial class UdpReactor : IDisposable
{
    /// <summary>
    /// Receive buffer. We advertise 1232 bytes (EDNS); a larger datagram from a misbehaving upstream (UR-06) is not cut
    /// into a wrong parse but reported as too big, and the caller retries over TCP.
    /// </summary>
    internal const int ReceiveBufferLength = 4096;

    private const int EventCapacity = 256;
    private const int DeferredCapacity = 64;
    private const int QuerySlotLength = 512; // the longest query: 12 + 255 + 4 + 11 bytes
    private const int MaxDescriptorTable = 1 << 24;

    private static readonly Lazy<UdpReactor> SharedReactor = new(StartShared);

    /// <summary>The thread that polls this reactor.</summary>
    private int _ownerThread = -1;

    private readonly Epoll _epoll = new(EventCapacity);
    private readonly ConcurrentQueue<UdpExchange> _abandoned = new();
    private readonly byte* _receive = (byte*)NativeMemory.Alloc(ReceiveBufferLength + 1);
    private readonly Lock _tableGrowth = new();
    private UdpExchange?[] _byDescriptor = new UdpExchange?[256];
    private readonly UdpExchange?[] _deferred = new UdpExchange?[DeferredCapacity];
    private readonly int[] _deferredLengths = new int[DeferredCapacity];
    private readonly byte* _deferredQueries = (byte*)NativeMemory.Alloc(DeferredCapacity * QuerySlotLength);
    private int _deferredCount;
    private int _open;
    private int _listener = -1;
    private volatile bool _disposed;

    /// <summary>Exchanges given back once every holder let go (<see cref="UdpExchange.Release"/>), from any thread.</summary>
    private readonly BoundedPool<UdpExchange> _idle = new(1024);

    /// <summary>The reactor of queries that no listener thread carries, polled by a thread of its own.</summary>
    internal static UdpReactor Shared => SharedReactor.Value;

    /// <summary>Sockets open for queries started here and not yet closed.</summary>
    internal int Open => Volatile.Read(ref _open);

    /// <summary>Whether the calling thread is the one that polls this reactor.</summary>
    internal bool IsOwnerThread => Environment.CurrentManagedThreadId == _ownerThread;

    /// <summary>
    /// Creates a reactor owned by the calling thread, which from now on must call <see cref="FlushSends"/> after
    /// starting queries and <see cref="Poll"/> while <see cref="Open"/> &gt; 0.
    /// </summary>
    /// <param name="useRing">Whether to run the queries this thread starts on an io_uring when the kernel allows it.</param>
    internal static UdpReactor CreateForThisThread(bool useRing = true)
    {
        var reactor = new UdpReactor { _ownerThread = Environment.CurrentManagedThreadId };
        if (useRing)
        {
            reactor.OpenRing();
        }
        else
        {
            reactor.RingUnavailable = "turned off";
        }

        return reactor;
    }

    /// <summary>Also watches <paramref name="descriptor"/> (the host's listening socket) for <see cref="Poll"/>.</summary>
    internal void WatchListener(int descriptor)
    {
        if (!_epoll.TryAdd(descriptor))
        {
            throw Errno.ToSocketException(Errno.Last);
        }

        _listener = descriptor;
    }

    /// <summary>Makes a <see cref="Poll"/> in progress (or the next one) return at once. Any thread.</summary>
    internal void WakeUp() => _epoll.WakeUp();

    internal void UnwatchListener()
    {
        if (_listener >= 0)
        {
            _epoll.Remove(_listener);
            _listener = -1;
        }
    }

    /// <summary>Sends <paramref name="question"/> to <paramref name="server"/> from a fresh socket and waits for the reply that matches it.</summary>
    /// <returns>The reply (await it once), or null when a datagram was too big for the receive buffer.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">The socket could not be opened, or the send failed.</exception>
    internal ValueTask<DnsResponseMessage?> ExchangeAsync(IPEndPoint server, UpstreamQuestion question, ForwarderCounters counters,
        CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        UdpExchange exchange = TryStartOnRing(server, question, counters) ?? StartOnSocket(server, question, counters);
        if (cancellation.CanBeCanceled)
        {
            exchange.Registration = cancellation.UnsafeRegister(
                static (state, token) => ((UdpExchange)state!).Reactor.Abandon((UdpExchange)state, token), exchange);
        }

        return exchange.Task;
    }

    private UdpExchange StartOnSocket(IPEndPoint server, UpstreamQuestion question, ForwarderCounters counters)
    {
        int descriptor = UpstreamSockets.OpenConnectedUdp(server);
        UdpExchange exchange = Rent();
        exchange.Begin(descriptor, slot: -1, UpstreamQuestion.NewId(), question, counters, server);
        bool deferred = IsOwnerThread && _deferredCount < DeferredCapacity;
        Span<byte> query = deferred ? new Span<byte>(_deferredQueries + (_deferredCount * QuerySlotLength), QuerySlotLength)
            : stackalloc byte[QuerySlotLength];
        int length = question.WriteQuery(exchange.Id, query);
        counters.Dnstap?.Log(Dnstap.DnstapMessageTypes.ForwarderQuery, overTcp: false, default, Dnstap.DnstapPeer.From(server), query[..length]);
        if ((!deferred && !TrySend(descriptor, query[..length])) || !Register(exchange))
        {
            int error = Errno.Last;
            LinuxSocketCalls.Close(descriptor);
            throw Errno.ToSocketException(error);
        }

        if (deferred)
        {
            _deferredLengths[_deferredCount] = length;
            _deferred[_deferredCount++] = exchange;
        }

        return exchange;
    }

    /// <summary>
    /// Sends the queries started on the hosting thread since the last call, back to back, so the upstream is woken
    /// once for a burst. The host calls it at the end of every loop turn.
    /// </summary>
    internal void FlushSends()
    {
        // Completions below may start more queries (a retry); they are appended and sent in the same pass.
        for (int i = 0; i < _deferredCount; i++)
        {
            UdpExchange exchange = _deferred[i]!;
            _deferred[i] = null;
            if (!exchange.IsFinished
                && !TrySend(exchange.Descriptor, new ReadOnlySpan<byte>(_deferredQueries + (i * QuerySlotLength), _deferredLengths[i])))
            {
                Finish(exchange, null, Errno.ToSocketException(Errno.Last));
            }
        }

        _deferredCount = 0;
        SubmitRing();
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMilliseconds"/> for replies and completes the queries they answer (their
    /// continuations run here). Returns true when the watched listening socket is readable. Only the owning thread.
    /// </summary>
    internal bool Poll(int timeoutMilliseconds)
    {
        CloseAbandoned();
        int completed = ReapRing();
        int count = _epoll.Wait(RingWaitLimit(timeoutMilliseconds, completed));
        bool listenerReadable = false;
        for (int i = 0; i < count; i++)
        {
            int descriptor = _epoll.Descriptor(i);
            if (descriptor < 0)
            {
                CloseAbandoned();
            }
            else if (descriptor == _listener)
            {
                listenerReadable = true;
            }
            else if (descriptor < _byDescriptor.Length && _byDescriptor[descriptor] is { IsFinished: false } exchange)
            {
                Receive(exchange);
            }
        }

        ReapRing(); // the ring's descriptor is watched too; reading its completions needs no system call
        return listenerReadable;
    }

    private static bool TrySend(int descriptor, ReadOnlySpan<byte> datagram)
    {
        fixed (byte* data = datagram)
        {
            return LinuxSocketCalls.Send(descriptor, data, (nuint)datagram.Length, 0) >= 0;
        }
    }

    private bool Register(UdpExchange exchange)
    {
        int descriptor = exchange.Descriptor;
        if (descriptor >= _byDescriptor.Length)
        {
            Grow(descriptor);
        }

        Volatile.Write(ref _byDescriptor[descriptor], exchange);
        Interlocked.Increment(ref _open);
        if (_epoll.TryAdd(descriptor))
        {
            return true;
        }

        _byDescriptor[descriptor] = null;
        Interlocked.Decrement(ref _open);
        return false;
    }

    private void Grow(int descriptor)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(descriptor, MaxDescriptorTable);
        lock (_tableGrowth)
        {
            if (descriptor < _byDescriptor.Length)
            {
                return;
            }

            var larger = new UdpExchange?[Math.Max(descriptor + 1, _byDescriptor.Length * 2)];
            _byDescriptor.CopyTo(larger, 0);
            Volatile.Write(ref _byDescriptor, larger);
        }
    }

    /// <summary>Reads every datagram queued on the exchange's socket until one answers it (TuDoor, CP-03, CP-04).</summary>
    private void Receive(UdpExchange exchange)
    {
        while (true)
        {
            // MSG_TRUNC: the real length of a datagram longer than the buffer, which then means "too big".
            nint received = LinuxSocketCalls.Recv(exchange.Descriptor, _receive, ReceiveBufferLength + 1,
                LinuxSocketCalls.MsgDontWait | LinuxSocketCalls.MsgTrunc);
            if (received < 0)
            {
                int error = Errno.Last;
                if (error is Errno.WouldBlock or Errno.Interrupted)
                {
                    return;
                }

                Finish(exchange, null, Errno.ToSocketException(error)); // e.g. ICMP port unreachable
                return;
            }

            if (received > ReceiveBufferLength)
            {
                Finish(exchange, null, null);
                return;
            }

            if (Deliver(exchange, new ReadOnlySpan<byte>(_receive, (int)received)))
            {
                return;
            }
        }
    }

    /// <summary>Finishes the exchange when <paramref name="reply"/> answers it; otherwise counts it as rejected and returns false.</summary>
    private bool Deliver(UdpExchange exchange, ReadOnlySpan<byte> reply)
    {
        switch (exchange.Question.Match(reply, exchange.Id, out DnsResponseMessage response))
        {
            case ReplyMatch.Answer:
                exchange.Counters.Dnstap?.Log(Dnstap.DnstapMessageTypes.ForwarderResponse, overTcp: false, default,
                    Dnstap.DnstapPeer.From(exchange.Server), reply);
                Finish(exchange, response, null);
                return true;
            case ReplyMatch.TooLarge:
                Finish(exchange, null, new TooLargeReplyException($"more than {DnsLimits.MaxRecordsPerMessage} records"));
                return true;
        }

        Interlocked.Increment(ref exchange.Counters.RejectedReplies);
        return false;
    }

    private void Finish(UdpExchange exchange, DnsResponseMessage? response, Exception? error)
    {
        if (!exchange.TryClaim())
        {
            response?.Return(); // the query was abandoned meanwhile
            return;
        }

        Close(exchange);
        if (error is null)
        {
            exchange.Complete(response);
        }
        else
        {
            exchange.Fail(error);
        }
    }

    /// <summary>
    /// Cancellation, on any thread: the caller gets its cancellation at once; the socket is closed by the reactor, which
    /// holds the exchange until it took it off its queue.
    /// </summary>
    internal void Abandon(UdpExchange exchange, CancellationToken cancellation)
    {
        if (!exchange.TryClaim())
        {
            return;
        }

        exchange.Hold();
        _abandoned.Enqueue(exchange);
        _epoll.WakeUp();
        exchange.Cancel(cancellation);
    }

    private void CloseAbandoned()
    {
        // Only those queued now: a ring query whose cancellation finds no room is queued again for the next turn.
        for (int count = _abandoned.Count; count > 0 && _abandoned.TryDequeue(out UdpExchange? exchange); count--)
        {
            if (exchange.Slot < 0)
            {
                Close(exchange);
                exchange.Release();
            }
            else if (CloseAbandonedOnRing(_ring!, exchange))
            {
                exchange.Release();
            }
        }
    }

    private void Close(UdpExchange exchange)
    {
        if (exchange.Slot >= 0)
        {
            ReleaseSlot(_ring!, exchange);
            return;
        }

        Volatile.Write(ref _byDescriptor[exchange.Descriptor], null);
        LinuxSocketCalls.Close(exchange.Descriptor);
        Interlocked.Decrement(ref _open);
        exchange.Release();
    }

    private UdpExchange Rent() => _idle.TryTake(out UdpExchange? exchange) ? exchange : new UdpExchange(this);

    /// <summary>Takes back an exchange no one holds any more (see <see cref="UdpExchange.Release"/>). Any thread.</summary>
    internal void Return(UdpExchange exchange)
    {
        exchange.Reset();
        if (!_disposed)
        {
            _idle.TryReturn(exchange);
        }
    }

    /// <summary>Called by the hosting thread when it stops: queries still open here are cancelled.</summary>
    public void Dispose()
    {
        _ownerThread = -1;
        _disposed = true;
        foreach (UdpExchange? exchange in _byDescriptor)
        {
            if (exchange is not null && exchange.TryClaim())
            {
                Close(exchange);
                exchange.Cancel(CancellationToken.None);
            }
        }

        foreach (UdpExchange? exchange in _bySlot)
        {
            if (exchange is not null && exchange.TryClaim())
            {
                exchange.Cancel(CancellationToken.None);
            }
        }

        CloseAbandoned();
        CloseRing();
        _epoll.Dispose();
        NativeMemory.Free(_receive);
        NativeMemory.Free(_deferredQueries);
    }

    private static UdpReactor StartShared()
    {
        var reactor = new UdpReactor();
        var thread = new Thread(() =>
        {
            while (true)
            {
                reactor.Poll(-1);
            }
        })
        {
            IsBackground = true,
            Name = "udp upstream",
        };
        thread.Start();
        return reactor;
    }
}
