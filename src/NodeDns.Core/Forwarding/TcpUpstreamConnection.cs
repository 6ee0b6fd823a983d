using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net.Sockets;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>The upstream closed or broke the connection while a query was outstanding.</summary>
public sealed class UpstreamConnectionLostException(string message, Exception? inner = null) : IOException(message, inner);

/// <summary>
/// One TCP connection to an upstream carrying many pipelined queries (RFC 7766 §6.2.1.1). Replies may come in
/// any order and are matched by ID and question; anything else on the stream is ignored.
/// </summary>
internal sealed class TcpUpstreamConnection : IAsyncDisposable
{
    public const int MaxPending = 256;

    private readonly Socket _socket;
    private readonly ConcurrentDictionary<ushort, Pending> _pending = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly CancellationTokenSource _closed = new();
    private readonly ForwarderCounters _counters;
    private readonly Task _reader;
    private readonly Dnstap.DnstapPeer _server;

    private TcpUpstreamConnection(Socket socket, ForwarderCounters counters, System.Net.IPEndPoint server)
    {
        _socket = socket;
        _counters = counters;
        _server = Dnstap.DnstapPeer.From(server);
        _reader = Task.Run(ReadLoopAsync);
    }

    public bool IsOpen => !_closed.IsCancellationRequested;

    public static async Task<TcpUpstreamConnection> ConnectAsync(UpstreamServer server, ForwarderCounters counters, CancellationToken cancellation)
    {
        var socket = new Socket(server.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server.EndPoint, cancellation).ConfigureAwait(false);
            return new TcpUpstreamConnection(socket, counters, server.EndPoint);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async Task<DnsResponseMessage> ExchangeAsync(UpstreamQuestion question, CancellationToken cancellation)
    {
        if (_pending.Count >= MaxPending)
        {
            throw new InvalidOperationException("too many queries outstanding on one upstream TCP connection");
        }

        var pending = new Pending(question);
        ushort id;
        do
        {
            id = UpstreamQuestion.NewId();
        }
        while (!_pending.TryAdd(id, pending));

        byte[] frame = ArrayPool<byte>.Shared.Rent(2 + question.QueryLength);
        try
        {
            int length = question.WriteQuery(id, frame.AsSpan(2));
            BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)length);
            await _writeLock.WaitAsync(cancellation).ConfigureAwait(false);
            try
            {
                ThrowIfClosed();
                await _socket.SendAsync(frame.AsMemory(0, 2 + length), SocketFlags.None, cancellation).ConfigureAwait(false);
                _counters.Dnstap?.Log(Dnstap.DnstapMessageTypes.ForwarderQuery, overTcp: true, default, _server, frame.AsSpan(2, length));
            }
            finally
            {
                _writeLock.Release();
            }

            return await pending.Reply.Task.WaitAsync(cancellation).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            Close(e);
            throw new UpstreamConnectionLostException("upstream TCP connection failed", e);
        }
        finally
        {
            _pending.TryRemove(id, out _);
            ArrayPool<byte>.Shared.Return(frame);
        }
    }

    private async Task ReadLoopAsync()
    {
        byte[] buffer = new byte[DnsLimits.MaxMessageLength];
        Exception? failure = null;
        try
        {
            while (true)
            {
                if (!await ReadExactlyAsync(buffer.AsMemory(0, 2)).ConfigureAwait(false))
                {
                    break;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(buffer);
                if (length < DnsLimits.HeaderLength || !await ReadExactlyAsync(buffer.AsMemory(0, length)).ConfigureAwait(false))
                {
                    break;
                }

                ushort id = DnsHeader.Id(buffer);
                ReplyMatch match = ReplyMatch.Foreign;
                DnsResponseMessage? response = null;
                if (_pending.TryGetValue(id, out Pending? pending))
                {
                    match = pending.Question.Match(buffer.AsSpan(0, length), id, out response);
                }

                switch (match)
                {
                    case ReplyMatch.Answer:
                        _counters.Dnstap?.Log(Dnstap.DnstapMessageTypes.ForwarderResponse, overTcp: true, default, _server, buffer.AsSpan(0, length));
                        if (!pending!.Reply.TrySetResult(response!))
                        {
                            response!.Return(); // the query was abandoned meanwhile
                        }

                        break;
                    case ReplyMatch.TooLarge:
                        pending!.Reply.TrySetException(new TooLargeReplyException($"more than {DnsLimits.MaxRecordsPerMessage} records"));
                        break;
                    default:
                        Interlocked.Increment(ref _counters.RejectedReplies);
                        break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            failure = e;
        }

        Close(failure);
    }

    private async Task<bool> ReadExactlyAsync(Memory<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int read = await _socket.ReceiveAsync(destination, SocketFlags.None, _closed.Token).ConfigureAwait(false);
            if (read == 0)
            {
                return false;
            }

            destination = destination[read..];
        }

        return true;
    }

    private void ThrowIfClosed()
    {
        if (_closed.IsCancellationRequested)
        {
            throw new UpstreamConnectionLostException("upstream TCP connection is closed");
        }
    }

    private void Close(Exception? cause)
    {
        if (_closed.IsCancellationRequested)
        {
            return;
        }

        _closed.Cancel();
        _socket.Dispose();
        foreach (Pending pending in _pending.Values)
        {
            pending.Reply.TrySetException(new UpstreamConnectionLostException("upstream closed the TCP connection", cause));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Close(null);
        await _reader.ConfigureAwait(false);
        _closed.Dispose();
        _writeLock.Dispose();
    }

    private sealed class Pending(UpstreamQuestion question)
    {
        public UpstreamQuestion Question { get; } = question;
        public TaskCompletionSource<DnsResponseMessage> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
