using System.Net;
using System.Net.Sockets;
using System.Text;
using NodeDns.Serving;

namespace NodeDns.Daemon.Operations;

public sealed record HttpReply(int Status, string ContentType, byte[] Body)
{
    public static HttpReply Text(int status, string text) => new(status, "text/plain; charset=utf-8", Encoding.UTF8.GetBytes(text));
}

/// <summary>
/// A deliberately small HTTP/1.1 server for /metrics, /health and /ready: GET only, one request per connection,
/// bounded request size and time. Kept in-house (instead of Kestrel) to hold the daemon's memory low, and bound with
/// SO_REUSEPORT like the DNS sockets so that a successor instance can start beside this one.
/// </summary>
public sealed class HttpEndpoint : IDisposable
{
    private const int MaxRequestBytes = 8192;
    private const int MaxConnections = 64;
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly CancellationTokenSource _stopping = new();
    private int _connections;

    private HttpEndpoint(Socket socket)
    {
        _socket = socket;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The listening socket (shared with a successor in a hand-off).</summary>
    public Socket ListeningSocket => _socket;

    /// <summary>Serves on a listening socket another instance bound (received in a hand-off).</summary>
    public static HttpEndpoint Adopt(Socket socket) => new(socket);

    public static HttpEndpoint Bind(IPEndPoint endPoint)
    {
        Socket socket = ListenerSockets.Bind(endPoint, SocketType.Stream);
        try
        {
            socket.Listen(64);
            return new HttpEndpoint(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start(Func<string, IPAddress, CancellationToken, Task<HttpReply>> handle) => _ = AcceptLoopAsync(handle);

    private async Task AcceptLoopAsync(Func<string, IPAddress, CancellationToken, Task<HttpReply>> handle)
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
                continue;
            }

            if (Interlocked.Increment(ref _connections) > MaxConnections)
            {
                Interlocked.Decrement(ref _connections);
                client.Dispose();
                continue;
            }

            _ = ServeAsync(client, handle);
        }
    }

    private async Task ServeAsync(Socket client, Func<string, IPAddress, CancellationToken, Task<HttpReply>> handle)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            string? requestLine = await ReadRequestLineAsync(client, timeout.Token).ConfigureAwait(false);
            HttpReply reply = requestLine?.Split(' ') switch
            {
                [var method, var target, ..] when method is "GET" or "HEAD" =>
                    await handle(target.Split('?')[0], ((IPEndPoint)client.RemoteEndPoint!).Address, timeout.Token).ConfigureAwait(false),
                [_, _, ..] => HttpReply.Text(405, "method not allowed\n"),
                _ => HttpReply.Text(400, "bad request\n"),
            };
            bool head = requestLine?.StartsWith("HEAD ", StringComparison.Ordinal) == true;
            string header = $"HTTP/1.1 {reply.Status} {Reason(reply.Status)}\r\nContent-Type: {reply.ContentType}\r\n"
                + $"Content-Length: {reply.Body.Length}\r\nConnection: close\r\n\r\n";
            await client.SendAsync(Encoding.ASCII.GetBytes(header), SocketFlags.None, timeout.Token).ConfigureAwait(false);
            if (!head)
            {
                await client.SendAsync(reply.Body, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }

            client.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
            Interlocked.Decrement(ref _connections);
        }
    }

    /// <summary>Reads the request head (up to the blank line) and returns its first line, or null if it is too long.</summary>
    private static async Task<string?> ReadRequestLineAsync(Socket client, CancellationToken cancellation)
    {
        byte[] buffer = new byte[MaxRequestBytes];
        int length = 0;
        while (length < buffer.Length)
        {
            int read = await client.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, cancellation).ConfigureAwait(false);
            if (read == 0)
            {
                break;
            }

            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0)
            {
                break;
            }
        }

        string head = Encoding.ASCII.GetString(buffer, 0, length);
        int lineEnd = head.IndexOf("\r\n", StringComparison.Ordinal);
        return lineEnd > 0 ? head[..lineEnd] : null;
    }

    private static string Reason(int status) => status switch
    {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Status",
    };

    public void Dispose()
    {
        _stopping.Cancel();
        _socket.Dispose();
    }
}
