using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

/// <summary>The reactor's io_uring path (queries started on the listener thread that owns the reactor).</summary>
[Collection(nameof(UdpReactorTests))] // one reactor class at a time: their sockets and threads stay apart
public sealed class UdpReactorRingTests() : UdpReactorTests(useRing: true)
{
    [Fact]
    public void This_machine_runs_upstream_queries_on_io_uring() =>
        Assert.Null(Reactor.RingUnavailable); // Linux 6.11 or later with io_uring allowed; anything else would test the other path twice

    [Fact]
    public async Task Slots_are_reused_and_every_socket_is_closed_after_more_queries_than_the_ring_has_slots()
    {
        for (int round = 0; round < 12; round++)
        {
            await AnswerEveryQueryAsync([.. Enumerable.Range(0, 100).Select(_ => Start())]);
        }

        await AssertClosedAsync();
        await AssertNoSocketConnectedToUpstreamAsync();
    }

    [Fact]
    public async Task More_queries_at_once_than_the_ring_has_slots_all_get_their_answer()
    {
        // The whole burst is sent in one turn: room for it in the upstream's receive buffer (SO_RCVBUFFORCE, as root).
        ForceUpstreamReceiveBuffer(8 << 20);
        const int Queries = 1100; // the ring has 1024 slots; the rest take the socket path
        await AnswerEveryQueryAsync(await StartInOneTurn(Queries));
        await AssertClosedAsync();
        await AssertNoSocketConnectedToUpstreamAsync();
    }

    [Fact]
    public async Task A_source_port_already_taken_is_replaced_by_another_and_the_query_still_goes_out()
    {
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        taken.Bind(new IPEndPoint(IPAddress.Any, 0));
        ushort takenPort = (ushort)((IPEndPoint)taken.LocalEndPoint!).Port;
        int binds = 0;
        Reactor.NextSourcePort = () => Interlocked.Increment(ref binds) <= 2 ? takenPort : (ushort)0; // taken twice, then the kernel's pick

        Task<DnsResponseMessage?> exchange = Start();
        (byte[] query, EndPoint from) = await ReceiveQueryAsync();
        await SendAsync(Reply(query), from);

        Assert.NotNull(await exchange.WaitAsync(Wait));
        Assert.NotEqual(takenPort, ((IPEndPoint)from).Port);
        Assert.Equal(3, binds);
        await AssertClosedAsync();
    }

    [Fact]
    public async Task A_cancelled_query_leaves_no_socket_behind()
    {
        using var cancellation = new CancellationTokenSource();
        Task<DnsResponseMessage?> exchange = Start(cancellation.Token);
        await ReceiveQueryAsync();
        Assert.Equal(1, SocketsConnectedTo(UpstreamEndPoint));

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exchange.WaitAsync(Wait));
        await AssertClosedAsync();
        await AssertNoSocketConnectedToUpstreamAsync();
    }

    /// <summary>Answers one query per exchange (in the order they arrive) and requires every exchange to get its answer.</summary>
    private async Task AnswerEveryQueryAsync(Task<DnsResponseMessage?>[] exchanges)
    {
        for (int i = 0; i < exchanges.Length; i++)
        {
            (byte[] query, EndPoint from) = await ReceiveQueryAsync();
            await SendAsync(Reply(query), from);
        }

        Assert.All(await Task.WhenAll(exchanges).WaitAsync(Wait), Assert.NotNull);
    }

    private async Task AssertNoSocketConnectedToUpstreamAsync()
    {
        for (int i = 0; i < 100 && SocketsConnectedTo(UpstreamEndPoint) > 0; i++)
        {
            await Task.Delay(10); // closes are submitted at the end of the reactor's turn
        }

        Assert.Equal(0, SocketsConnectedTo(UpstreamEndPoint));
    }

    /// <summary>UDP sockets of this network namespace connected to <paramref name="server"/> (IPv4), from /proc/net/udp.</summary>
    private static int SocketsConnectedTo(IPEndPoint server)
    {
        string remote = $"{BitConverter.ToUInt32(server.Address.GetAddressBytes()):X8}:{server.Port:X4}";
        return File.ReadLines("/proc/net/udp").Skip(1).Count(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[2] == remote);
    }
}

/// <summary>The reactor's socket path: descriptors watched by epoll (other threads' queries, kernels without io_uring).</summary>
[Collection(nameof(UdpReactorTests))]
public sealed class UdpReactorSocketTests() : UdpReactorTests(useRing: false);

/// <summary>The raw-socket upstream UDP path against a real socket on loopback that the test scripts.</summary>
public abstract class UdpReactorTests : IDisposable
{
    private protected static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly ReactorThread _reactor;
    private readonly Socket _upstream = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly ForwarderCounters _counters = new();
    private readonly UpstreamQuestion _question = new(Wire.Name("www.example"), DnsType.A, DnsClass.IN, dnssecOk: false, checkingDisabled: false);

    protected UdpReactorTests(bool useRing)
    {
        UseRing = useRing;
        _reactor = new ReactorThread(useRing);
        _upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
    }

    private protected bool UseRing { get; }

    private protected UdpReactor Reactor => _reactor.Reactor;

    private protected IPEndPoint UpstreamEndPoint => (IPEndPoint)_upstream.LocalEndPoint!;

    [Fact]
    public void A_poll_that_completes_a_query_returns_without_waiting_for_more()
    {
        // A listener thread sends the answers of the queries a poll completed once the poll returns: a poll that
        // completed something and then slept on would hold those answers back for its whole timeout.
        bool completedInTime = false;
        var thread = new Thread(() =>
        {
            using UdpReactor reactor = UdpReactor.CreateForThisThread(UseRing);
            reactor.NextSourcePort = static () => 0; // the kernel's pick: a taken port would be retried only by a poll
            _upstream.ReceiveTimeout = 5_000;
            Task<DnsResponseMessage?> exchange = reactor.ExchangeAsync(UpstreamEndPoint, _question, _counters, default).AsTask();
            reactor.FlushSends();
            byte[] buffer = new byte[512];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int length = _upstream.ReceiveFrom(buffer, ref from);
            _upstream.SendTo(Reply(buffer[..length]), from);
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (!exchange.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(30))
            {
                reactor.Poll(10_000);
            }

            completedInTime = exchange.IsCompletedSuccessfully && watch.Elapsed < TimeSpan.FromSeconds(5);
        });
        thread.Start();
        thread.Join();

        Assert.True(completedInTime);
    }

    /// <summary>Starts <paramref name="count"/> queries in one turn of the reactor's own thread.</summary>
    private protected Task<Task<DnsResponseMessage?>[]> StartInOneTurn(int count) =>
        _reactor.Run(r => Task.FromResult(Enumerable.Range(0, count).Select(_ => r.ExchangeAsync(UpstreamEndPoint, _question, _counters, default).AsTask()).ToArray()));

    private protected void ForceUpstreamReceiveBuffer(int bytes) => _upstream.SetRawSocketOption(1, 33, BitConverter.GetBytes(bytes)); // SO_RCVBUFFORCE

    /// <summary>Starts a query for the test's question on the reactor's own thread, as a listener thread does.</summary>
    private protected Task<DnsResponseMessage?> Start(CancellationToken cancellation = default, IPEndPoint? server = null) =>
        _reactor.Run(r => r.ExchangeAsync(server ?? UpstreamEndPoint, _question, _counters, cancellation).AsTask());

    [Fact]
    public async Task Foreign_replies_are_ignored_until_the_one_that_answers_the_question_arrives() // CP-03, CP-04
    {
        Task<DnsResponseMessage?> exchange = Start();
        (byte[] query, EndPoint from) = await ReceiveQueryAsync();
        ushort id = Wire.ReadU16(query, 0);

        await SendAsync(Reply(query, id: (ushort)(id ^ 1)), from);
        await SendAsync(Reply(Wire.Query("other.example", id: id)), from);
        await SendAsync([1, 2, 3], from);
        await SendAsync(Reply(query, rcode: DnsRcode.NxDomain), from);

        DnsResponseMessage? response = await exchange.WaitAsync(Wait);
        Assert.NotNull(response);
        Assert.Equal(DnsRcode.NxDomain, response.Rcode);
        Assert.Equal(3, Interlocked.Read(ref _counters.RejectedReplies));
        await AssertClosedAsync();
    }

    [Fact]
    public async Task Every_query_has_its_own_random_source_port_above_1023()
    {
        var ports = new HashSet<int>();
        var ids = new HashSet<ushort>();
        for (int i = 0; i < 20; i++)
        {
            Task<DnsResponseMessage?> exchange = Start();
            (byte[] query, EndPoint from) = await ReceiveQueryAsync();
            ports.Add(((IPEndPoint)from).Port);
            ids.Add(Wire.ReadU16(query, 0));
            await SendAsync(Reply(query), from);
            Assert.NotNull(await exchange.WaitAsync(Wait));
        }

        Assert.True(ports.Count >= 19, $"{ports.Count} distinct ports in 20 queries");
        Assert.True(ids.Count >= 19, $"{ids.Count} distinct IDs in 20 queries");
        Assert.All(ports, p => Assert.InRange(p, 1024, 65535));
        await AssertClosedAsync();
    }

    [Fact]
    public async Task An_ipv6_upstream_is_reached_from_an_ipv6_socket()
    {
        using var upstream = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        upstream.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        Task<DnsResponseMessage?> exchange = Start(server: (IPEndPoint)upstream.LocalEndPoint!);

        byte[] buffer = new byte[2048];
        SocketReceiveFromResult received = await upstream.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.IPv6Any, 0)).WaitAsync(Wait);
        Assert.Equal(IPAddress.IPv6Loopback, ((IPEndPoint)received.RemoteEndPoint).Address);
        await upstream.SendToAsync(Reply(buffer[..received.ReceivedBytes], rcode: DnsRcode.NxDomain), received.RemoteEndPoint);

        Assert.Equal(DnsRcode.NxDomain, (await exchange.WaitAsync(Wait))!.Rcode);
        await AssertClosedAsync();
    }

    [Fact]
    public async Task A_datagram_longer_than_the_receive_buffer_is_reported_as_too_big() // UR-06
    {
        Task<DnsResponseMessage?> exchange = Start();
        (byte[] query, EndPoint from) = await ReceiveQueryAsync();
        byte[] huge = new byte[UdpReactor.ReceiveBufferLength + 100];
        Reply(query).CopyTo(huge, 0);
        await SendAsync(huge, from);

        Assert.Null(await exchange.WaitAsync(Wait));
        await AssertClosedAsync();
    }

    [Fact]
    public async Task A_closed_port_fails_the_query_with_connection_refused()
    {
        IPEndPoint closed = UpstreamEndPoint;
        _upstream.Dispose();
        Task<DnsResponseMessage?> exchange = Start(server: closed);

        SocketException error = await Assert.ThrowsAsync<SocketException>(() => exchange.WaitAsync(Wait));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        await AssertClosedAsync();
    }

    [Fact]
    public async Task A_query_after_a_cancelled_one_gets_its_own_answer()
    {
        // The cancelled query's exchange object is given back and serves the next one: nothing of the first may stick.
        using var cancellation = new CancellationTokenSource();
        Task<DnsResponseMessage?> cancelled = Start(cancellation.Token);
        (byte[] firstQuery, EndPoint firstFrom) = await ReceiveQueryAsync();
        await cancellation.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Wait));
        await AssertClosedAsync();

        Task<DnsResponseMessage?> next = Start();
        (byte[] query, EndPoint from) = await ReceiveQueryAsync();
        await SendAsync(Reply(firstQuery), firstFrom); // to a closed socket: lost
        await SendAsync(Reply(query), from);

        DnsResponseMessage? answer = await next.WaitAsync(Wait);
        Assert.NotNull(answer);
        Assert.Equal(BinaryPrimitives.ReadUInt16BigEndian(query), answer.Id);
    }

    [Fact]
    public async Task Cancelling_an_answered_query_later_does_not_touch_the_query_after_it()
    {
        using var cancellation = new CancellationTokenSource();
        Task<DnsResponseMessage?> answered = Start(cancellation.Token);
        (byte[] firstQuery, EndPoint firstFrom) = await ReceiveQueryAsync();
        await SendAsync(Reply(firstQuery), firstFrom);
        Assert.NotNull(await answered.WaitAsync(Wait));
        await AssertClosedAsync();

        Task<DnsResponseMessage?> next = Start();
        (byte[] query, EndPoint from) = await ReceiveQueryAsync();
        await cancellation.CancelAsync(); // the first query's token, cancelled once its exchange serves the next query
        await SendAsync(Reply(query), from);

        Assert.NotNull(await next.WaitAsync(Wait));
    }

    [Fact]
    public async Task A_reply_wakes_a_thread_that_waits_for_nothing_else()
    {
        // A reactor thread that only wakes for its own work (as a listener thread at night): a reply that did not wake it
        // would be seen only when its 10 s wait ends.
        using var quiet = new ReactorThread(UseRing, pollMilliseconds: 10_000);
        Task<DnsResponseMessage?> exchange = quiet.Run(r => r.ExchangeAsync(UpstreamEndPoint, _question, _counters, default).AsTask());
        (byte[] query, EndPoint from) = await ReceiveQueryAsync();
        await SendAsync(Reply(query), from);

        Assert.NotNull(await exchange.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task A_reply_delivered_while_the_thread_runs_is_seen_before_it_sleeps()
    {
        // The reply is delivered while the reactor's thread itself is in a system call (here: it sends the reply over
        // loopback, so the kernel delivers it in that thread's context, as a network interrupt on its CPU would).
        using var quiet = new ReactorThread(UseRing, pollMilliseconds: 10_000);
        Task<DnsResponseMessage?> exchange = quiet.Run(r =>
        {
            Task<DnsResponseMessage?> started = r.ExchangeAsync(UpstreamEndPoint, _question, _counters, default).AsTask();
            r.FlushSends();
            byte[] buffer = new byte[512];
            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int length = _upstream.ReceiveFrom(buffer, ref from);
            _upstream.SendTo(Reply(buffer[..length]), from);
            return started;
        });

        Assert.NotNull(await exchange.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Cancellation_ends_the_wait_and_the_socket_is_closed()
    {
        using var cancellation = new CancellationTokenSource();
        Task<DnsResponseMessage?> exchange = Start(cancellation.Token);
        await ReceiveQueryAsync();
        Assert.Equal(1, Reactor.Open);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exchange.WaitAsync(Wait));
        await AssertClosedAsync();
    }

    private protected async Task<(byte[] Query, EndPoint From)> ReceiveQueryAsync()
    {
        byte[] buffer = new byte[2048];
        SocketReceiveFromResult received = await _upstream.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0))
            .WaitAsync(Wait);
        return (buffer[..received.ReceivedBytes], received.RemoteEndPoint);
    }

    private protected async Task SendAsync(byte[] datagram, EndPoint to) => await _upstream.SendToAsync(datagram, to);

    /// <summary>The query turned into a reply with the same question: QR set, no records, EDNS dropped.</summary>
    private protected static byte[] Reply(byte[] query, ushort? id = null, int rcode = DnsRcode.NoError)
    {
        int questionEnd = 12;
        while (query[questionEnd] != 0)
        {
            questionEnd += query[questionEnd] + 1;
        }

        questionEnd += 5;
        byte[] reply = query[..questionEnd];
        new Wire().Header(id ?? Wire.ReadU16(query, 0), (ushort)(0x8180 | rcode), 1, 0, 0, 0).ToArray().CopyTo(reply, 0);
        return reply;
    }

    private protected async Task AssertClosedAsync()
    {
        for (int i = 0; i < 100 && Reactor.Open > 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, Reactor.Open);
    }

    public void Dispose()
    {
        _reactor.Dispose();
        _upstream.Dispose();
    }

    /// <summary>A thread that hosts a reactor and polls it, as a UDP listener thread does.</summary>
    private sealed class ReactorThread : IDisposable
    {
        private readonly Thread _thread;
        private readonly ManualResetEventSlim _started = new();
        private volatile bool _stopping;

        private readonly System.Collections.Concurrent.ConcurrentQueue<Action> _work = new();

        public ReactorThread(bool useRing, int pollMilliseconds = 5)
        {
            _thread = new Thread(() =>
            {
                using UdpReactor reactor = UdpReactor.CreateForThisThread(useRing);
                Reactor = reactor;
                _started.Set();
                try
                {
                    while (!_stopping)
                    {
                        reactor.Poll(pollMilliseconds);
                        while (_work.TryDequeue(out Action? work))
                        {
                            work();
                        }

                        reactor.FlushSends();
                    }
                }
                catch (Exception e)
                {
                    Failure = e; // reported by Dispose rather than ending the test process
                }
            }) { IsBackground = true };
            _thread.Start();
            _started.Wait();
        }

        public UdpReactor Reactor { get; private set; } = null!;

        private Exception? Failure { get; set; }

        /// <summary>
        /// Runs <paramref name="start"/> on the reactor's thread; its task, once started, completed off that thread: the
        /// reactor completes queries inline, and a test that went on there would end by joining its own thread.
        /// </summary>
        public Task<T> Run<T>(Func<UdpReactor, Task<T>> start)
        {
            var started = new TaskCompletionSource<Task<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
            _work.Enqueue(() =>
            {
                try
                {
                    started.SetResult(start(Reactor));
                }
                catch (Exception e)
                {
                    started.SetException(e);
                }
            });
            Reactor.WakeUp();
            var detached = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            started.Task.Unwrap().ContinueWith(static (task, state) => ((TaskCompletionSource<T>)state!).SetFromTask(task), detached,
                CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return detached.Task;
        }

        public void Dispose()
        {
            _stopping = true;
            Reactor.WakeUp();
            _thread.Join();
            Assert.Null(Failure);
        }
    }
}
