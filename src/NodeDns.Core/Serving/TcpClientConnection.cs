using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NodeDns.Dnstap;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// One client's DNS-over-TCP connection (RFC 7766): length-prefixed queries, several in flight, answered as each
/// completes (out of order), each response written with its prefix in one send. Closed when idle, when a message
/// is not complete in time, or on a length prefix shorter than a header.
/// </summary>
internal sealed class TcpClientConnection
{
    private readonly Socket _socket;
    private readonly QueryPipeline _pipeline;
    private readonly TcpListenerOptions _options;
    private readonly ClientContext _context;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _slots;
    private readonly DnstapPeer _client;
    private readonly DnstapPeer _server;

    public TcpClientConnection(Socket socket, QueryPipeline pipeline, ClientContext context, TcpListenerOptions options)
    {
        if (pipeline.Dnstap is not null)
        {
            _client = DnstapPeer.From((IPEndPoint)socket.RemoteEndPoint!);
            _server = DnstapPeer.From((IPEndPoint)socket.LocalEndPoint!);
        }

        _context = context;
        _socket = socket;
        _pipeline = pipeline;
        _options = options;
        _slots = new SemaphoreSlim(options.MaxQueriesPerConnection, options.MaxQueriesPerConnection);
        socket.NoDelay = true;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var closing = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        byte[] prefix = new byte[2];
        byte[] key = new byte[QueryParser.MaxKeyLength];
        byte[] response = new byte[2 + DnsLimits.MaxMessageLength];
        try
        {
            while (true)
            {
                if (!await ReadAsync(prefix, _options.IdleTimeout, closing.Token).ConfigureAwait(false))
                {
                    return;
                }

                int length = BinaryPrimitives.ReadUInt16BigEndian(prefix);
                if (length < DnsLimits.HeaderLength)
                {
                    return; // TC-01, TC-06: nothing sensible can follow
                }

                byte[] query = new byte[length];
                if (!await ReadAsync(query, _options.MessageTimeout, closing.Token).ConfigureAwait(false))
                {
                    return;
                }

                _pipeline.Dnstap?.Log(DnstapMessageTypes.ClientQuery, overTcp: true, _client, _server, query);
                QueryOutcome outcome = _pipeline.Process(query, _context, key, response.AsSpan(2), out int responseLength, out QueryInfo info);
                if (outcome == QueryOutcome.Answered)
                {
                    await WriteAsync(response, responseLength, closing.Token).ConfigureAwait(false);
                }
                else if (outcome == QueryOutcome.Miss)
                {
                    await _slots.WaitAsync(closing.Token).ConfigureAwait(false);
                    _ = AnswerMissAsync(query, info, key.AsSpan(0, info.KeyLength).ToArray(), closing.Token);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            await closing.CancelAsync().ConfigureAwait(false);
            _socket.Dispose();
        }
    }

    private async Task AnswerMissAsync(byte[] query, QueryInfo info, byte[] key, CancellationToken closing)
    {
        byte[] framed = ArrayPool<byte>.Shared.Rent(2 + QueryPipeline.MaxAnswerLength);
        try
        {
            int length = await _pipeline.ResolveMissAsync(query, info, key, _context, framed.AsMemory(2), closing).ConfigureAwait(false);
            await WriteAsync(framed, length, closing).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(framed);
            _slots.Release();
        }
    }

    /// <summary>Writes a response whose message starts at offset 2 of <paramref name="frame"/>.</summary>
    private async Task WriteAsync(byte[] frame, int length, CancellationToken closing)
    {
        BinaryPrimitives.WriteUInt16BigEndian(frame, (ushort)length);
        await _writeLock.WaitAsync(closing).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(frame.AsMemory(0, 2 + length), SocketFlags.None, closing).ConfigureAwait(false);
            _pipeline.Dnstap?.Log(DnstapMessageTypes.ClientResponse, overTcp: true, _client, _server, frame.AsSpan(2, length));
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Fills <paramref name="buffer"/> within <paramref name="timeout"/>; false on a clean close or a timeout.</summary>
    private async Task<bool> ReadAsync(Memory<byte> buffer, TimeSpan timeout, CancellationToken closing)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(closing);
        deadline.CancelAfter(timeout);
        try
        {
            while (!buffer.IsEmpty)
            {
                int read = await _socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    return false;
                }

                buffer = buffer[read..];
            }

            return true;
        }
        catch (OperationCanceledException) when (!closing.IsCancellationRequested)
        {
            return false;
        }
    }
}
