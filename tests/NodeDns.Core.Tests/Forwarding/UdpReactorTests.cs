using System.Net;
using System.Net.Sockets;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

/// <summary>The raw-socket upstream UDP path against a real socket on loopback that the test scripts.</summary>
public sealed class UdpReactorTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly ReactorThread _reactor = new();
    private readonly Socket _upstream = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly ForwarderCounters _counters = new();
    private readonly UpstreamQuestion _question = new(Wire.Name("www.example"), DnsType.A, DnsClass.IN, dnssecOk: false, checkingDisabled: false);

    public UdpReactorTests() => _upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));

    private IPEndPoint UpstreamEndPoint => (IPEndPoint)_upstream.LocalEndPoint!;

    [Fact]
    public async Task Foreign_replies_are_ignored_until_the_one_that_answers_the_question_arrives() // CP-03, CP-04
    {
        Task<DnsResponseMessage?> exchange = _reactor.Reactor.ExchangeAsync(UpstreamEndPoint, _question, _counters, CancellationToken.None);
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
            Task<DnsResponseMessage?> exchange = _reactor.Reactor.ExchangeAsync(UpstreamEndPoint, _question, _counters, CancellationToken.None);
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
        Task<DnsResponseMessage?> exchange = _reactor.Reactor.ExchangeAsync((IPEndPoint)upstream.LocalEndPoint!, _question, _counters,
            CancellationToken.None);

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
        Task<DnsResponseMessage?> exchange = _reactor.Reactor.ExchangeAsync(UpstreamEndPoint, _question, _counters, CancellationToken.None);
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
        Task<DnsResponseMessage?> exchange = _reactor.Reactor.ExchangeAsync(closed, _question, _counters, CancellationToken.None);

        SocketException error = await Assert.ThrowsAsync<SocketException>(() => exchange.WaitAsync(Wait));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        await AssertClosedAsync();
    }

    [Fact]
    public async Task Cancellation_ends_the_wait_and_the_socket_is_closed()
    {
        using var cancellation = new CancellationTokenSource();
        Task<DnsResponseMessage?> exchange = _reactor.Reactor.ExchangeAsync(UpstreamEndPoint, _question, _counters, cancellation.Token);
        await ReceiveQueryAsync();
        Assert.Equal(1, _reactor.Reactor.Open);

        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exchange.WaitAsync(Wait));
        await AssertClosedAsync();
    }

    private async Task<(byte[] Query, EndPoint From)> ReceiveQueryAsync()
    {
        byte[] buffer = new byte[2048];
        SocketReceiveFromResult received = await _upstream.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0))
            .WaitAsync(Wait);
        return (buffer[..received.ReceivedBytes], received.RemoteEndPoint);
    }

    private async Task SendAsync(byte[] datagram, EndPoint to) => await _upstream.SendToAsync(datagram, to);

    /// <summary>The query turned into a reply with the same question: QR set, no records, EDNS dropped.</summary>
    private static byte[] Reply(byte[] query, ushort? id = null, int rcode = DnsRcode.NoError)
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

    private async Task AssertClosedAsync()
    {
        for (int i = 0; i < 100 && _reactor.Reactor.Open > 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, _reactor.Reactor.Open);
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

        public ReactorThread()
        {
            _thread = new Thread(() =>
            {
                using UdpReactor reactor = UdpReactor.CreateForThisThread();
                Reactor = reactor;
                _started.Set();
                while (!_stopping)
                {
                    reactor.Poll(20);
                    reactor.FlushSends();
                }
            }) { IsBackground = true };
            _thread.Start();
            _started.Wait();
        }

        public UdpReactor Reactor { get; private set; } = null!;

        public void Dispose()
        {
            _stopping = true;
            _thread.Join();
        }
    }
}
