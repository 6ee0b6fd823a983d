using System.Net;
using System.Net.Sockets;
using NodeDns.Dnstap;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// Serves DNS over UDP on one address with several SO_REUSEPORT sockets, each drained by a dedicated thread with
/// Linux recvmmsg/sendmmsg: no allocation per packet, and a cache hit is answered inline. A miss is forwarded from
/// the same thread, whose <see cref="UdpReactor"/> also receives the upstream's reply, and answered by its
/// <see cref="UdpMissAnswers"/>.
/// </summary>
public sealed class UdpListener : IDisposable
{
    private readonly Socket[] _sockets;
    private readonly List<Thread> _threads = [];
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>How often an idle receive thread wakes to see whether it should stop (without closing the socket).</summary>
    private static readonly TimeSpan ReceivePollInterval = TimeSpan.FromMilliseconds(250);

    private volatile bool _receiving = true;
    private CountdownEvent? _readersStopped;

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

    /// <param name="upstreamIoUring">Whether the threads' upstream queries may run on io_uring (see <see cref="UdpReactor"/>).</param>
    public void Start(QueryPipeline pipeline, int listenerIndex, Action<Exception> onError, bool upstreamIoUring = true)
    {
        var client = new ClientContext(listenerIndex, OverTcp: false, Ipv6: EndPoint.AddressFamily == AddressFamily.InterNetworkV6);
        _readersStopped = new CountdownEvent(_sockets.Length);
        foreach (Socket socket in _sockets)
        {
            var thread = new Thread(() =>
            {
                BatchedReceiveLoop(socket, pipeline, client, onError, upstreamIoUring);
            })
            {
                IsBackground = true,
                Name = $"udp {EndPoint}",
            };
            _threads.Add(thread);
            thread.Start();
        }
    }

    /// <summary>
    /// recvmmsg up to 32 queries, answer the hits into one sendmmsg, hand misses on. While misses this thread started
    /// are in flight, it waits in its <see cref="UdpReactor"/> for their replies and for new queries alike.
    /// </summary>
    private void BatchedReceiveLoop(Socket socket, QueryPipeline pipeline, ClientContext context, Action<Exception> onError, bool upstreamIoUring)
    {
        bool readerStopped = false;
        using var batch = new BatchedDatagrams();
        using UdpReactor reactor = UdpReactor.CreateForThisThread(upstreamIoUring);
        using MissReplyQueue missReplies = MissReplyQueue.CreateForThisThread(socket);
        var answers = new UdpMissAnswers(socket, pipeline, missReplies, EndPoint, onError, _stopping.Token);
        var misses = new UdpMissAnswers.PendingMiss?[BatchedDatagrams.Batch];
        reactor.WatchListener((int)socket.SafeHandle.DangerousGetHandle());
        context = context with { Reactor = reactor };
        byte[] key = new byte[QueryParser.MaxKeyLength];
        int pollMilliseconds = (int)ReceivePollInterval.TotalMilliseconds;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                try
                {
                    if (!_receiving)
                    {
                        // Stopped reading for a successor: relay what is still in flight, then end.
                        SignalStoppedReading(ref readerStopped);
                        reactor.UnwatchListener();
                        if (reactor.Open == 0)
                        {
                            return;
                        }

                        reactor.Poll(pollMilliseconds);
                    }
                    else
                    {
                        // With nothing of ours in flight, wait in recvmmsg itself; otherwise in the reactor, which also
                        // completes the misses whose upstream replies arrived (their answers join missReplies).
                        bool idle = reactor.Open == 0;
                        if (idle || reactor.Poll(pollMilliseconds))
                        {
                            AnswerBatch(socket, pipeline, context, batch, answers, misses, batch.Receive(socket, wait: idle), key, onError);
                        }
                    }

                    // End of the turn: upstream queries and answers to misses leave in bursts.
                    reactor.FlushSends();
                    Interlocked.Add(ref pipeline.Counters.SendErrors, missReplies.Flush());
                }
                catch (ObjectDisposedException)
                {
                    return;
                }
                catch (SocketException) when (!_stopping.IsCancellationRequested)
                {
                    // e.g. an ICMP error from an earlier send
                }
                catch (SocketException)
                {
                    return;
                }
            }
        }
        finally
        {
            SignalStoppedReading(ref readerStopped);
        }
    }

    /// <summary>
    /// Answers the hits of a received batch with one sendmmsg, then starts the misses: a miss costs a fresh upstream
    /// socket and a send, and the hits that came in the same batch do not wait for that.
    /// </summary>
    private void AnswerBatch(Socket socket, QueryPipeline pipeline, ClientContext context, BatchedDatagrams batch, UdpMissAnswers answers,
        UdpMissAnswers.PendingMiss?[] misses, int received, byte[] key, Action<Exception> onError)
    {
        long receivedAt = pipeline.Dnstap is null ? 0 : DnstapLog.Now();
        int missCount = 0;
        for (int i = 0; i < received; i++)
        {
            try
            {
                ReadOnlySpan<byte> query = batch.Request(i);
                ClientContext from = context with { Address = ClientAddress.FromSockaddr(batch.Address(i)) };
                switch (pipeline.Process(query, from, key, batch.ResponseBuffer(i), out int length, out QueryInfo info))
                {
                    case QueryOutcome.Answered:
                        batch.QueueReply(i, length);
                        break;
                    case QueryOutcome.Miss:
                        misses[missCount++] = answers.Prepare(query, info, key.AsSpan(0, info.KeyLength), from, batch.Address(i));
                        break;
                }
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref pipeline.Counters.InternalErrors);
                onError(e);
            }
        }

        Interlocked.Add(ref pipeline.Counters.SendErrors, batch.SendQueued(socket));
        if (pipeline.Dnstap is { } dnstap)
        {
            LogBatch(dnstap, batch, received, receivedAt);
        }

        for (int i = 0; i < missCount; i++)
        {
            UdpMissAnswers.PendingMiss miss = misses[i]!;
            misses[i] = null; // the batch's misses are kept only until its hits have left
            miss.Start();
        }
    }

    /// <summary>After the batch's answers left: its queries (received at <paramref name="receivedAt"/>) and the answers given at once, to dnstap.</summary>
    private void LogBatch(DnstapLog dnstap, BatchedDatagrams batch, int received, long receivedAt)
    {
        var server = DnstapPeer.From(EndPoint);
        for (int i = 0; i < received; i++)
        {
            dnstap.Log(DnstapMessageTypes.ClientQuery, overTcp: false, DnstapPeer.FromSockaddr(batch.Address(i)), server, batch.Request(i), receivedAt);
        }

        for (int sent = 0; sent < batch.SentCount; sent++)
        {
            var client = DnstapPeer.FromSockaddr(batch.Address(batch.SentFor(sent)));
            dnstap.Log(DnstapMessageTypes.ClientResponse, overTcp: false, client, server, batch.SentAnswer(sent));
        }
    }

    /// <summary>
    /// Stops reading without closing the sockets, so that nothing queued on them is lost while a successor that shares
    /// them keeps reading; answers to queries already read still go out.
    /// </summary>
    public void StopReceiving()
    {
        _receiving = false;
        _readersStopped?.Wait(ReceivePollInterval * 4);
    }

    private void SignalStoppedReading(ref bool signalled)
    {
        if (!signalled)
        {
            signalled = true;
            _readersStopped!.Signal();
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
