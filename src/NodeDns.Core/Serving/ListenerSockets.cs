using System.Net;
using System.Net.Sockets;

namespace NodeDns.Serving;

/// <summary>Creates listening sockets with the options a node-local DNS cache needs.</summary>
public static class ListenerSockets
{
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private const int IpProtoIp = 0;
    private const int IpProtoIpv6 = 41;
    private const int IpFreeBind = 15;
    private const int Ipv6FreeBind = 78;

    /// <summary>
    /// Binds with SO_REUSEPORT (several sockets, and a successor process, share the address) and IP_FREEBIND (the
    /// link-local address may be added to the interface after we bind). The managed SocketOptionName for
    /// SO_REUSEPORT throws on Linux, hence the raw options.
    /// </summary>
    public static Socket Bind(IPEndPoint endPoint, SocketType type)
    {
        var socket = new Socket(endPoint.AddressFamily, type, type == SocketType.Dgram ? ProtocolType.Udp : ProtocolType.Tcp);
        try
        {
            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
                if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    socket.DualMode = false;
                    socket.SetRawSocketOption(IpProtoIpv6, Ipv6FreeBind, BitConverter.GetBytes(1));
                }
                else
                {
                    socket.SetRawSocketOption(IpProtoIp, IpFreeBind, BitConverter.GetBytes(1));
                }
            }

            socket.Bind(endPoint);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
