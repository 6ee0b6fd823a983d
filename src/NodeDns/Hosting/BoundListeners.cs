using System.Net;
using System.Net.Sockets;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Operations;
using NodeDns.Serving;

namespace NodeDns.Daemon.Hosting;

/// <summary>A socket that could not be bound; <see cref="What"/> names protocol and address.</summary>
public sealed class ListenerBindException(string what, SocketException inner) : Exception($"cannot bind {what}", inner)
{
    public string What { get; } = what;
}

/// <summary>
/// Every socket the daemon serves on, bound before the host starts so that a bind failure is reported
/// once, with the address and the OS error, and the process exits 1.
/// </summary>
public sealed class BoundListeners : IDisposable
{
    private BoundListeners(IReadOnlyList<UdpListener> udp, IReadOnlyList<TcpDnsListener> tcp, IReadOnlyList<HttpEndpoint> http)
    {
        Udp = udp;
        Tcp = tcp;
        Http = http;
    }

    public IReadOnlyList<UdpListener> Udp { get; }
    public IReadOnlyList<TcpDnsListener> Tcp { get; }
    /// <summary>The metrics address first, then any --http-listen addresses.</summary>
    public IReadOnlyList<HttpEndpoint> Http { get; }

    public static BoundListeners Bind(DaemonSettings settings)
    {
        var udp = new List<UdpListener>();
        var tcp = new List<TcpDnsListener>();
        var http = new List<HttpEndpoint>();
        try
        {
            foreach (IPEndPoint endPoint in settings.Listen)
            {
                udp.Add(Attempt($"udp {endPoint}", () => UdpListener.Bind(endPoint, settings.UdpSockets)));
                tcp.Add(Attempt($"tcp {endPoint}", () => TcpDnsListener.Bind(endPoint, new TcpListenerOptions())));
            }

            IEnumerable<IPEndPoint> httpAddresses = settings.Metrics is { } metrics ? [metrics, .. settings.ExtraHttp] : settings.ExtraHttp;
            foreach (IPEndPoint endPoint in httpAddresses.Distinct())
            {
                http.Add(Attempt($"http tcp {endPoint}", () => HttpEndpoint.Bind(endPoint)));
            }
        }
        catch
        {
            udp.ForEach(l => l.Dispose());
            tcp.ForEach(l => l.Dispose());
            http.ForEach(h => h.Dispose());
            throw;
        }

        return new BoundListeners(udp, tcp, http);
    }

    private static T Attempt<T>(string what, Func<T> bind)
    {
        try
        {
            return bind();
        }
        catch (SocketException e)
        {
            throw new ListenerBindException(what, e);
        }
    }

    /// <summary>Closes the DNS listeners; the HTTP endpoints are closed by their own service, after the lameduck period.</summary>
    public void Dispose()
    {
        foreach (UdpListener listener in Udp)
        {
            listener.Dispose();
        }

        foreach (TcpDnsListener listener in Tcp)
        {
            listener.Dispose();
        }
    }
}
