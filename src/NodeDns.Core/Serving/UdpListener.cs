using System.Net;
using System.Net.Sockets;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// Serves DNS over UDP on one address with several SO_REUSEPORT sockets, each drained by a dedicated thread doing
/// blocking <c>ReceiveFrom</c> with a reused <see cref="SocketAddress"/>: no allocation per packet, and a cache hit
/// is answered inline. Misses are handed to the pipeline and answered from the thread that completes them.
/// </summary>
public sealed class UdpListener : IDisposable
{
    private readonly Socket[] _sockets;
    private readonly List<Thread> _threads = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>How often an idle receive thread wakes to see whether it should stop (without closing the socket).</summary>
    private static readonly TimeSpan ReceivePollInterval = TimeSpan.FromMilliseconds(250);

    private volatile bool _receiving = true;

    private UdpListener(IPEndPoint endPoint, Socket[] sockets)
    {
        EndPoint = endPoint;
        _sockets = sockets;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The bound sockets (shared with a successor in a hand-off).</summary>
    public IReadOnlyList<Socket> Sockets => _sockets;

    /// <summary>Serves on sockets another instance bound (received in a hand-off).</summary>
    public static UdpListener Adopt(IPEndPoint endPoint, Socket[] sockets)
    {
        foreach (Socket socket in sockets)
        {
            socket.ReceiveTimeout = (int)ReceivePollInterval.TotalMilliseconds;
        }

        return new UdpListener(endPoint, sockets);
    }

    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static UdpListener Bind(IPEndPoint endPoint, int socketCount)
    {
        var sockets = new List<Socket>(socketCount);
        try
        {
            for (int i = 0; i < socketCount; i++)
            {
                Socket socket = ListenerSockets.Bind(endPoint, SocketType.Dgram);
                socket.ReceiveBufferSize = 4 << 20;
                socket.ReceiveTimeout = (int)ReceivePollInterval.TotalMilliseconds;
                sockets.Add(socket);
                if (endPoint.Port == 0)
                {
                    endPoint = (IPEndPoint)socket.LocalEndPoint!;
                }
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }

        return new UdpListener(endPoint, [.. sockets]);
    }

    public void Start(QueryPipeline pipeline, int listenerIndex, Action<Exception> onError)
    {
        var client = new ClientContext(listenerIndex, OverTcp: false, Ipv6: EndPoint.AddressFamily == AddressFamily.InterNetworkV6);
        foreach (Socket socket in _sockets)
        {
            var thread = new Thread(() =>
            {
                if (OperatingSystem.IsLinux())
                {
                    BatchedReceiveLoop(socket, pipeline, client, onError);
                }
                else
                {
                    ReceiveLoop(socket, pipeline, client, onError);
                }
            })
            {
                IsBackground = true,
                Name = $"udp {EndPoint}",
            };
            _threads.Add(thread);
            thread.Start();
        }
    }

    private void ReceiveLoop(Socket socket, QueryPipeline pipeline, ClientContext context, Action<Exception> onError)
    {
        byte[] request = GC.AllocateArray<byte>(DnsLimits.MaxMessageLength, pinned: true);
        byte[] response = GC.AllocateArray<byte>(DnsLimits.MaxMessageLength, pinned: true);
        byte[] key = new byte[QueryParser.MaxKeyLength];
        var client = new SocketAddress(socket.AddressFamily);
        while (_receiving && !_stopping.IsCancellationRequested)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(request, SocketFlags.None, client);
            }
            catch (SocketException) when (!_stopping.IsCancellationRequested)
            {
                continue; // the idle poll interval, ICMP errors from an earlier send, or an oversized datagram
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            try
            {
                ReadOnlySpan<byte> query = request.AsSpan(0, received);
                Interlocked.Increment(ref pipeline.Counters.UdpQueries);
                ClientContext from = context with { Address = ClientAddress.From(client) };
                switch (pipeline.Process(query, from, key, response, out int length, out QueryInfo info))
                {
                    case QueryOutcome.Answered:
                        Send(socket, response.AsSpan(0, length), client, pipeline.Counters);
                        break;
                    case QueryOutcome.Miss:
                        _ = AnswerMissAsync(socket, pipeline, query.ToArray(), info, key.AsSpan(0, info.KeyLength).ToArray(),
                            from, Copy(client), onError);
                        break;
                }
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref pipeline.Counters.InternalErrors);
                onError(e);
            }
        }
    }

    /// <summary>The Linux loop: recvmmsg up to 32 queries, answer the hits into one sendmmsg, hand misses on.</summary>
    private void BatchedReceiveLoop(Socket socket, QueryPipeline pipeline, ClientContext context, Action<Exception> onError)
    {
        using var batch = new BatchedDatagrams();
        byte[] key = new byte[QueryParser.MaxKeyLength];
        while (_receiving && !_stopping.IsCancellationRequested)
        {
            int received;
            try
            {
                received = batch.Receive(socket);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                if (_stopping.IsCancellationRequested || e is ObjectDisposedException)
                {
                    return;
                }

                continue; // e.g. an ICMP error from an earlier send
            }

            for (int i = 0; i < received; i++)
            {
                try
                {
                    ReadOnlySpan<byte> query = batch.Request(i);
                    Interlocked.Increment(ref pipeline.Counters.UdpQueries);
                    ClientContext from = context with { Address = ClientAddress.FromSockaddr(batch.Address(i)) };
                    switch (pipeline.Process(query, from, key, batch.ResponseBuffer(i), out int length, out QueryInfo info))
                    {
                        case QueryOutcome.Answered:
                            batch.QueueReply(i, length);
                            break;
                        case QueryOutcome.Miss:
                            _ = AnswerMissAsync(socket, pipeline, query.ToArray(), info, key.AsSpan(0, info.KeyLength).ToArray(),
                                from, ToSocketAddress(socket.AddressFamily, batch.Address(i)), onError);
                            break;
                    }
                }
                catch (Exception e)
                {
                    Interlocked.Increment(ref pipeline.Counters.InternalErrors);
                    onError(e);
                }
            }

            try
            {
                int failed = batch.SendQueued(socket);
                Interlocked.Add(ref pipeline.Counters.SendErrors, failed);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
        }
    }

    private static SocketAddress ToSocketAddress(AddressFamily family, ReadOnlySpan<byte> sockaddr)
    {
        var address = new SocketAddress(family, sockaddr.Length);
        sockaddr.CopyTo(address.Buffer.Span);
        return address;
    }

    private async Task AnswerMissAsync(Socket socket, QueryPipeline pipeline, byte[] query, QueryInfo info, byte[] key,
        ClientContext context, SocketAddress client, Action<Exception> onError)
    {
        try
        {
            byte[] response = await pipeline.ResolveMissAsync(query, info, key, context, _stopping.Token).ConfigureAwait(false);
            Send(socket, response, client, pipeline.Counters);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref pipeline.Counters.InternalErrors);
            onError(e);
        }
    }

    private static void Send(Socket socket, ReadOnlySpan<byte> response, SocketAddress client, ServerCounters counters)
    {
        try
        {
            socket.SendTo(response, SocketFlags.None, client);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Interlocked.Increment(ref counters.SendErrors);
        }
    }

    private static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span.CopyTo(copy.Buffer.Span);
        return copy;
    }

    /// <summary>
    /// Stops reading without closing the sockets, so that nothing queued on them is lost while a successor that shares
    /// them keeps reading; answers to queries already read still go out.
    /// </summary>
    public void StopReceiving()
    {
        _receiving = false;
        foreach (Thread thread in _threads)
        {
            thread.Join(ReceivePollInterval * 4);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        foreach (Socket socket in _sockets)
        {
            socket.Dispose();
        }

        foreach (Thread thread in _threads)
        {
            thread.Join(TimeSpan.FromSeconds(1));
        }

    }
}
