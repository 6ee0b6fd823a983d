using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Benchmarks;

/// <summary>
/// One whole upstream UDP exchange as a listener thread runs it, on the io_uring path and on the epoll path: a
/// fresh CSPRNG-port socket, the query sent, the reply read and matched, the socket closed. The "upstream" is a
/// socket of this thread that echoes the query back as an answer, so both sides' system calls are in the figure.
/// </summary>
[MemoryDiagnoser]
public class UpstreamExchangeBenchmarks
{
    private readonly UpstreamQuestion _question = new(Messages.Name("svc1.default.svc.cluster.local"), DnsType.A, DnsClass.IN,
        dnssecOk: false, checkingDisabled: false);
    private readonly ForwarderCounters _counters = new();
    private readonly byte[] _datagram = new byte[512];
    private Socket _upstream = null!;
    private IPEndPoint _upstreamEndPoint = null!;
    private readonly SocketAddress _from = new(AddressFamily.InterNetwork); // reused: the fake upstream allocates nothing either
    private UdpReactor _reactor = null!;

    [Params(true, false)]
    public bool IoUring { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _upstream = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _upstream.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _upstreamEndPoint = (IPEndPoint)_upstream.LocalEndPoint!;
        _reactor = UdpReactor.CreateForThisThread(IoUring);
        if (IoUring && _reactor.RingUnavailable is { } reason)
        {
            throw new InvalidOperationException($"io_uring is not available here: {reason}");
        }
    }

    [Benchmark]
    public int Exchange()
    {
        if (!_reactor.IsOwnerThread)
        {
            throw new InvalidOperationException("the benchmark runs on another thread than its setup: the reactor is not its own");
        }

        ValueTask<DnsResponseMessage?> exchange = _reactor.ExchangeAsync(_upstreamEndPoint, _question, _counters, CancellationToken.None);
        _reactor.FlushSends();
        while (!_upstream.Poll(0, SelectMode.SelectRead))
        {
            _reactor.Poll(0); // a failed step (a source port already taken) is retried when the reactor reads its completion
            _reactor.FlushSends();
        }

        int length = _upstream.ReceiveFrom(_datagram, SocketFlags.None, _from);
        _datagram[2] |= 0x80; // QR: the query, echoed, is an answer with no records
        _upstream.SendTo(_datagram.AsSpan(0, length), SocketFlags.None, _from);
        while (!exchange.IsCompleted)
        {
            _reactor.Poll(1000);
        }

        _reactor.FlushSends(); // the socket's close, on the ring
        DnsResponseMessage response = exchange.Result ?? throw new InvalidOperationException("no answer");
        int id = response.Id;
        response.Return(); // as the miss path does once it encoded the answer
        return id;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reactor.Dispose();
        _upstream.Dispose();
    }
}
