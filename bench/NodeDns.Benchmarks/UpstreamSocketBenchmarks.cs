using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using NodeDns.Forwarding;
using NodeDns.Interop;

namespace NodeDns.Benchmarks;

/// <summary>What a fresh, randomly bound, connected UDP socket per upstream query costs (no I/O).</summary>
[MemoryDiagnoser]
public class UpstreamSocketBenchmarks
{
    private static readonly IPEndPoint Upstream = new(IPAddress.Loopback, 53);

    /// <summary>The managed way: a <see cref="Socket"/> bound to a CSPRNG port, connected, disposed.</summary>
    [Benchmark(Baseline = true)]
    public void ManagedSocket()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        while (true)
        {
            try
            {
                socket.Bind(new IPEndPoint(IPAddress.Any, RandomNumberGenerator.GetInt32(1024, 65536)));
                break;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse)
            {
            }
        }

        socket.Connect(Upstream);
    }

    /// <summary>What NodeDns does: socket/bind/connect/close system calls, CSPRNG port from a per-thread block.</summary>
    [Benchmark]
    public void RawSocket() => LinuxSocketCalls.Close(UpstreamSockets.OpenConnectedUdp(Upstream));
}
