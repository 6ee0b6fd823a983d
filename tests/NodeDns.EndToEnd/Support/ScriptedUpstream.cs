using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NodeDns.Core.Tests;

namespace NodeDns.EndToEnd.Support;

/// <summary>A query as the fake upstream saw it.</summary>
public sealed record ReceivedQuery(byte[] Message, bool OverTcp, IPEndPoint From)
{
    public ushort Id => Wire.ReadU16(Message, 0);
    public string Name => ScriptedUpstream.ReadName(Message);
    public ushort Type => Wire.ReadU16(Message, 12 + Wire.Name(Name).Length);
    public int QuestionEnd => 12 + Wire.Name(Name).Length + 4;
}

/// <summary>
/// A fake upstream on 127.0.0.1 (UDP and TCP) whose replies a test scripts byte by byte: wrong IDs, wrong questions,
/// garbage, silence, truncation, delays. Written with the test-side <see cref="Wire"/> builder, not the product's code.
/// </summary>
public sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly CancellationTokenSource _stop = new();
    private readonly Func<ReceivedQuery, Task<IReadOnlyList<byte[]>>> _script;

    public ScriptedUpstream(Func<ReceivedQuery, Task<IReadOnlyList<byte[]>>> script)
    {
        _script = script;
        int port = Ports.Free();
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
        _udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _udp.Bind(EndPoint);
        _tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _tcp.Bind(EndPoint);
        _tcp.Listen(64);
        _ = UdpLoopAsync();
        _ = AcceptLoopAsync();
    }

    /// <summary>Answers every question with one A record 192.0.2.1, TTL 300.</summary>
    public static ScriptedUpstream Answering() => new(q => Task.FromResult<IReadOnlyList<byte[]>>([AnswerA(q.Message, 300)]));

    public IPEndPoint EndPoint { get; }
    public ConcurrentQueue<ReceivedQuery> Received { get; } = new();

    public int CountFor(string name) => Received.Count(q => string.Equals(q.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>A reply to <paramref name="query"/> with its ID and question, the given rcode and records.</summary>
    public static byte[] Reply(byte[] query, int rcode, int answers, byte[] records, ushort extraFlags = 0, int authority = 0)
    {
        int questionEnd = 12 + Wire.Name(ReadName(query)).Length + 4;
        return new Wire().Header(Wire.ReadU16(query, 0), (ushort)(0x8180 | extraFlags | rcode), 1, answers, authority, 0)
            .Bytes(query[12..questionEnd]).Bytes(records).ToArray();
    }

    public static byte[] AnswerA(byte[] query, uint ttl, byte last = 1) =>
        Reply(query, 0, 1, new Wire().Record(ReadName(query), 1, ttl, [192, 0, 2, last]).ToArray());

    public static string ReadName(byte[] message)
    {
        var labels = new List<string>();
        int position = 12;
        while (message[position] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(message, position + 1, message[position]));
            position += 1 + message[position];
        }

        return string.Join('.', labels);
    }

    private async Task UdpLoopAsync()
    {
        byte[] buffer = new byte[65535];
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            var query = new ReceivedQuery(buffer[..result.ReceivedBytes], false, (IPEndPoint)result.RemoteEndPoint);
            Received.Enqueue(query);
            _ = RespondUdpAsync(query);
        }
    }

    private async Task RespondUdpAsync(ReceivedQuery query)
    {
        try
        {
            foreach (byte[] reply in await _script(query))
            {
                await _udp.SendToAsync(reply, SocketFlags.None, query.From);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                Socket client = await _tcp.AcceptAsync(_stop.Token);
                _ = ServeTcpAsync(client);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task ServeTcpAsync(Socket client)
    {
        using (client)
        {
            var writeLock = new SemaphoreSlim(1, 1);
            try
            {
                while (true)
                {
                    byte[] prefix = new byte[2];
                    if (!await ReadExactlyAsync(client, prefix))
                    {
                        return;
                    }

                    byte[] message = new byte[Wire.ReadU16(prefix, 0)];
                    if (!await ReadExactlyAsync(client, message))
                    {
                        return;
                    }

                    var query = new ReceivedQuery(message, true, (IPEndPoint)client.RemoteEndPoint!);
                    Received.Enqueue(query);
                    _ = RespondTcpAsync(client, query, writeLock);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
            }
        }
    }

    private async Task RespondTcpAsync(Socket client, ReceivedQuery query, SemaphoreSlim writeLock)
    {
        try
        {
            foreach (byte[] reply in await _script(query))
            {
                byte[] framed = [(byte)(reply.Length >> 8), (byte)reply.Length, .. reply];
                await writeLock.WaitAsync();
                try
                {
                    await client.SendAsync(framed, SocketFlags.None);
                }
                finally
                {
                    writeLock.Release();
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private async Task<bool> ReadExactlyAsync(Socket socket, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, _stop.Token);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        await Task.Yield();
    }
}
