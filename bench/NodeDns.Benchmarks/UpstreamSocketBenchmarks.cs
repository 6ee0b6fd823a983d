using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using NodeDns.Forwarding;

namespace NodeDns.Benchmarks;

/// <summary>What a fresh, randomly bound, connected UDP socket per upstream query costs (no I/O).</summary>
[MemoryDiagnoser]
public class UpstreamSocketBenchmarks
{
    private static readonly IPEndPoint Upstream = new(IPAddress.Loopback, 53);

    [Benchmark(Baseline = true)]
    public void KernelChosenPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Connect(Upstream);
    }

    [Benchmark]
    public void CsprngPortBindAndConnect()
    {
        using Socket socket = UpstreamSockets.ConnectedUdp(Upstream);
    }
}
