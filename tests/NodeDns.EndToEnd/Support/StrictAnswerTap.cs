using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using NodeDns.Core.Tests;

namespace NodeDns.EndToEnd.Support;

/// <summary>
/// Sits between the tests' DNS client and nodedns, on 127.0.0.1 (UDP and TCP on one port), and reads every answer
/// nodedns sends with <see cref="StrictDnsMessage"/> before relaying it unchanged. A malformed answer is remembered
/// and fails the test when the daemon is disposed, so every end-to-end test checks the wire format for free.
/// </summary>
public sealed class StrictAnswerTap : IAsyncDisposable
{
    private static readonly TimeSpan AnswerWait = TimeSpan.FromSeconds(15);
    private readonly IPEndPoint _daemon;
    private readonly Socket _udp;
    private readonly TcpListener _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _malformed = new();
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;

    public StrictAnswerTap(IPEndPoint daemon)
    {
        _daemon = daemon;
        (_udp, _tcp) = BindPair();
        EndPoint = (IPEndPoint)_udp.LocalEndPoint!;
        _udpLoop = Task.Run(RelayUdpAsync);
        _tcpLoop = Task.Run(RelayTcpAsync);
    }

    /// <summary>Where the client sends its queries.</summary>
    public IPEndPoint EndPoint { get; }

    public IReadOnlyCollection<string> Malformed => _malformed;

    private static (Socket, TcpListener) BindPair()
    {
        for (int attempt = 0; ; attempt++)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var tcp = new TcpListener((IPEndPoint)udp.LocalEndPoint!);
            try
            {
                tcp.Start();
                return (udp, tcp);
            }
            catch (SocketException) when (attempt < 20)
            {
                udp.Dispose();
            }
        }
    }

    private async Task RelayUdpAsync()
    {
        byte[] buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _udp.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // ICMP unreachable from an earlier client that went away
            }

            _ = RelayOneDatagramAsync(buffer[..received.ReceivedBytes], received.RemoteEndPoint);
        }
    }

    private async Task RelayOneDatagramAsync(byte[] query, EndPoint client)
    {
        using var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(AnswerWait);
        try
        {
            await upstream.ConnectAsync(_daemon, timeout.Token);
            await upstream.SendAsync(query, timeout.Token);
            byte[] answer = new byte[65535];
            int length = await upstream.ReceiveAsync(answer, timeout.Token);
            Check(answer[..length], "udp");
            await _udp.SendToAsync(answer.AsMemory(0, length), client, _stop.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // no answer: the client times out as it would without the tap
        }
    }

    private async Task RelayTcpAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _tcp.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }

            _ = RelayConnectionAsync(client);
        }
    }

    private async Task RelayConnectionAsync(Socket client)
    {
        using (client)
        using (var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                await upstream.ConnectAsync(_daemon, _stop.Token);
                Task queries = CopyAsync(client, upstream);
                Task answers = RelayAnswersAsync(upstream, client);
                await Task.WhenAny(queries, answers);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task CopyAsync(Socket from, Socket to)
    {
        byte[] buffer = new byte[65535];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, _stop.Token)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), _stop.Token);
            }

            to.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task RelayAnswersAsync(Socket daemon, Socket client)
    {
        byte[] prefix = new byte[2];
        try
        {
            while (await ReadExactlyAsync(daemon, prefix))
            {
                byte[] answer = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
                if (!await ReadExactlyAsync(daemon, answer))
                {
                    _malformed.Enqueue($"tcp: connection closed inside a {answer.Length}-byte message");
                    return;
                }

                Check(answer, "tcp");
                await client.SendAsync(prefix, _stop.Token);
                await client.SendAsync(answer, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = await socket.ReceiveAsync(buffer.AsMemory(filled), _stop.Token);
            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }

    private void Check(byte[] answer, string transport)
    {
        try
        {
            StrictDnsMessage.Parse(answer);
        }
        catch (MalformedDnsMessageException e)
        {
            _malformed.Enqueue($"{transport}: {e.Message}");
        }
    }

    /// <summary>Throws when any answer was malformed.</summary>
    public void AssertAllAnswersWellFormed()
    {
        if (!_malformed.IsEmpty)
        {
            throw new InvalidOperationException($"nodedns sent {_malformed.Count} malformed answer(s):\n{string.Join('\n', _malformed.Take(5))}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Stop();
        await Task.WhenAll(_udpLoop, _tcpLoop).WaitAsync(TimeSpan.FromSeconds(5));
        AssertAllAnswersWellFormed();
    }
}
