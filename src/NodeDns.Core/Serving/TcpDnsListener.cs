using System.Net;
using System.Net.Sockets;

namespace NodeDns.Serving;

/// <summary>Accepts DNS-over-TCP clients on one address and runs a <see cref="TcpClientConnection"/> for each.</summary>
public sealed class TcpDnsListener : IDisposable
{
    private readonly Socket _socket;
    private volatile TcpListenerOptions _options;
    private readonly CancellationTokenSource _stopping = new();
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ClientAddress, int> _perClient = new();
    private int _connections;

    private TcpDnsListener(Socket socket, TcpListenerOptions options)
    {
        _socket = socket;
        _options = options;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The limits for connections accepted from now on (a reload replaces them; open connections keep theirs).</summary>
    public TcpListenerOptions Options
    {
        get => _options;
        set => _options = value;
    }

    /// <summary>The listening socket (shared with a successor in a hand-off).</summary>
    public Socket ListeningSocket => _socket;

    /// <summary>Serves on a listening socket another instance bound (received in a hand-off).</summary>
    public static TcpDnsListener Adopt(Socket socket, TcpListenerOptions options) => new(socket, options);

    /// <exception cref="SocketException">The address cannot be bound.</exception>
    public static TcpDnsListener Bind(IPEndPoint endPoint, TcpListenerOptions options)
    {
        Socket socket = ListenerSockets.Bind(endPoint, SocketType.Stream);
        try
        {
            socket.Listen(512);
            return new TcpDnsListener(socket, options);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start(QueryPipeline pipeline, int listenerIndex, Action<Exception> onError) =>
        _ = AcceptLoopAsync(pipeline, new ClientContext(listenerIndex, OverTcp: true, Ipv6: EndPoint.AddressFamily == AddressFamily.InterNetworkV6), onError);

    private async Task AcceptLoopAsync(QueryPipeline pipeline, ClientContext context, Action<Exception> onError)
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                continue; // e.g. a client that reset before accept, or EMFILE; keep accepting
            }

            var address = ClientAddress.From(((IPEndPoint)client.RemoteEndPoint!).Address);
            // '|' rather than '||': both counts are always taken, and Release gives both back.
            TcpListenerOptions options = _options;
            if (Interlocked.Increment(ref _connections) > options.MaxConnections
                | _perClient.AddOrUpdate(address, 1, (_, n) => n + 1) > options.MaxConnectionsPerClient)
            {
                Release(address);
                Interlocked.Increment(ref pipeline.Counters.TcpConnectionsRejected);
                client.Dispose();
                continue;
            }

            Interlocked.Increment(ref pipeline.Counters.TcpConnections);
            _ = ServeAsync(new TcpClientConnection(client, pipeline, context with { Address = address }, options), address, pipeline.Counters, onError);
        }
    }

    private void Release(ClientAddress address)
    {
        Interlocked.Decrement(ref _connections);
        if (_perClient.AddOrUpdate(address, 0, (_, n) => n - 1) <= 0)
        {
            _perClient.TryRemove(new KeyValuePair<ClientAddress, int>(address, 0));
        }
    }

    private async Task ServeAsync(TcpClientConnection connection, ClientAddress address, ServerCounters counters, Action<Exception> onError)
    {
        try
        {
            await connection.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            onError(e);
        }
        finally
        {
            Release(address);
            Interlocked.Increment(ref counters.TcpConnectionsClosed);
        }
    }

    public void Dispose()
    {
        _stopping.Cancel();
        _socket.Dispose();
    }
}
