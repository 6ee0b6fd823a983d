using System.Net;
using System.Net.Sockets;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Handoff;
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

    /// <param name="takeover">Sockets received from the instance being replaced; used where the address matches.</param>
    public static BoundListeners Bind(DaemonSettings settings, Takeover? takeover = null)
    {
        var udp = new List<UdpListener>();
        var tcp = new List<TcpDnsListener>();
        var http = new List<HttpEndpoint>();
        try
        {
            foreach (IPEndPoint endPoint in settings.Listen)
            {
                Socket[] sharedUdp = takeover?.Claim(SharedSocket.Udp, endPoint) ?? [];
                udp.Add(sharedUdp.Length > 0
                    ? UdpListener.Adopt(endPoint, sharedUdp)
                    : Attempt($"udp {endPoint}", () => UdpListener.Bind(endPoint, settings.UdpSockets)));
                Socket[] sharedTcp = takeover?.Claim(SharedSocket.Tcp, endPoint) ?? [];
                tcp.Add(sharedTcp.Length > 0
                    ? TcpDnsListener.Adopt(sharedTcp[0], settings.Tcp)
                    : Attempt($"tcp {endPoint}", () => TcpDnsListener.Bind(endPoint, settings.Tcp)));
            }

            IEnumerable<IPEndPoint> httpAddresses = settings.Metrics is { } metrics ? [metrics, .. settings.ExtraHttp] : settings.ExtraHttp;
            foreach (IPEndPoint endPoint in httpAddresses.Distinct())
            {
                Socket[] sharedHttp = takeover?.Claim(SharedSocket.Http, endPoint) ?? [];
                http.Add(sharedHttp.Length > 0 ? HttpEndpoint.Adopt(sharedHttp[0]) : Attempt($"http tcp {endPoint}", () => HttpEndpoint.Bind(endPoint)));
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

    /// <summary>Every socket with what it serves, for handing them to a successor.</summary>
    public IEnumerable<(string Kind, IPEndPoint EndPoint, Socket Socket)> AllSockets() =>
        Udp.SelectMany(l => l.Sockets.Select(s => (SharedSocket.Udp, l.EndPoint, s)))
            .Concat(Tcp.Select(l => (SharedSocket.Tcp, l.EndPoint, l.ListeningSocket)))
            .Concat(Http.Select(h => (SharedSocket.Http, h.EndPoint, h.ListeningSocket)));

    /// <summary>Stops reading UDP without closing the sockets (a successor shares them).</summary>
    public void StopReceiving()
    {
        foreach (UdpListener listener in Udp)
        {
            listener.StopReceiving();
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
