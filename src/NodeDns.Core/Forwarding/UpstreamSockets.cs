using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace NodeDns.Forwarding;

/// <summary>Opens the sockets used to talk to upstreams.</summary>
internal static class UpstreamSockets
{
    private const int MinPort = 1024;
    private const int BindTries = 8;

    /// <summary>
    /// A UDP socket bound to a CSPRNG-chosen source port in 1024–65535 and connected to <paramref name="server"/>,
    /// so the kernel drops datagrams from any other address or port (RFC 5452 §9.1, §9.2; SAD DNS).
    /// </summary>
    public static Socket ConnectedUdp(IPEndPoint server)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            IPAddress any = server.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
            BindRandomPort(socket, any);
            socket.Connect(server);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static void BindRandomPort(Socket socket, IPAddress any)
    {
        for (int attempt = 0; attempt < BindTries; attempt++)
        {
            try
            {
                socket.Bind(new IPEndPoint(any, RandomNumberGenerator.GetInt32(MinPort, 65536)));
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
            }
        }

        socket.Bind(new IPEndPoint(any, 0)); // the kernel's own random ephemeral port
    }
}
