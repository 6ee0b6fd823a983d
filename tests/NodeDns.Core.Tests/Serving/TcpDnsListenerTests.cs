using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests;

/// <summary>The TCP listener and its connections in process (RFC 7766), on loopback, in front of the pipeline harness.</summary>
public sealed class TcpDnsListenerTests : IDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly PipelineHarness _harness = new();
    private readonly List<Exception> _errors = [];
    private TcpDnsListener? _listener;

    private TcpDnsListener Start(TcpListenerOptions options)
    {
        _listener = TcpDnsListener.Bind(new IPEndPoint(IPAddress.Loopback, 0), options);
        _listener.Start(_harness.Pipeline, 0, _errors.Add);
        return _listener;
    }

    private static async Task<Socket> ConnectAsync(TcpDnsListener listener)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(listener.EndPoint);
        return socket;
    }

    private static async Task SendAsync(Socket socket, byte[] message)
    {
        byte[] framed = new byte[message.Length + 2];
        BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)message.Length);
        message.CopyTo(framed, 2);
        await socket.SendAsync(framed, SocketFlags.None);
    }

    /// <returns>The next framed message, or null when the connection was closed.</returns>
    private static async Task<byte[]?> ReceiveAsync(Socket socket)
    {
        using var timeout = new CancellationTokenSource(Wait);
        byte[] prefix = new byte[2];
        if (!await FillAsync(socket, prefix, timeout.Token))
        {
            return null;
        }

        byte[] message = new byte[BinaryPrimitives.ReadUInt16BigEndian(prefix)];
        return await FillAsync(socket, message, timeout.Token) ? message : null;
    }

    private static async Task<bool> FillAsync(Socket socket, byte[] buffer, CancellationToken cancellation)
    {
        for (int filled = 0; filled < buffer.Length;)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, cancellation);
            }
            catch (SocketException)
            {
                return false;
            }

            if (read == 0)
            {
                return false;
            }

            filled += read;
        }

        return true;
    }

    [Fact]
    public async Task Pipelined_queries_on_one_connection_each_get_their_answer() // TC-01, TC-02
    {
        TcpDnsListener listener = Start(new TcpListenerOptions());
        using Socket socket = await ConnectAsync(listener);
        for (ushort id = 1; id <= 3; id++)
        {
            await SendAsync(socket, Wire.Query($"n{id}.example", id: id));
        }

        var ids = new HashSet<ushort>();
        for (int i = 0; i < 3; i++)
        {
            byte[] answer = (await ReceiveAsync(socket))!;
            Assert.NotNull(answer);
            Assert.Single(StrictDnsMessage.Parse(answer).Records, r => r.Type == DnsType.A);
            ids.Add(Wire.ReadU16(answer, 0));
        }

        Assert.Equal(new ushort[] { 1, 2, 3 }, ids.Order().ToArray());
        Assert.Empty(_errors);
    }

    [Fact]
    public async Task Connections_beyond_the_per_client_limit_are_closed_on_accept() // TC-11
    {
        TcpDnsListener listener = Start(new TcpListenerOptions { MaxConnectionsPerClient = 2 });
        using Socket first = await ConnectAsync(listener);
        using Socket second = await ConnectAsync(listener);
        using Socket third = await ConnectAsync(listener);

        Assert.Null(await ReceiveAsync(third));
        await SendAsync(first, Wire.Query("ok.example"));
        Assert.NotNull(await ReceiveAsync(first));
    }

    [Fact]
    public async Task A_new_limit_applies_to_connections_accepted_after_it() // a reload
    {
        TcpDnsListener listener = Start(new TcpListenerOptions { MaxConnectionsPerClient = 1 });
        using Socket first = await ConnectAsync(listener);
        listener.Options = listener.Options with { MaxConnectionsPerClient = 2 };
        using Socket second = await ConnectAsync(listener);

        await SendAsync(second, Wire.Query("ok.example"));
        Assert.NotNull(await ReceiveAsync(second));
    }

    [Fact]
    public async Task An_idle_connection_is_closed_after_the_idle_timeout() // TC-06
    {
        TcpDnsListener listener = Start(new TcpListenerOptions { IdleTimeout = TimeSpan.FromMilliseconds(200) });
        using Socket socket = await ConnectAsync(listener);

        Assert.Null(await ReceiveAsync(socket)); // closed by the server, well before ReceiveAsync's own 5 s bound
    }

    public void Dispose() => _listener?.Dispose();
}
