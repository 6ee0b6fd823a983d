using System.Net;
using System.Net.Sockets;
using NodeDns.Interop;

namespace NodeDns.Forwarding;

/// <summary>
/// Opens the socket of one upstream UDP query with raw system calls. A managed <see cref="Socket"/> per query costs
/// more to open and close, and its asynchronous receive goes through the runtime's own epoll thread and the thread
/// pool; the descriptor is watched by a <see cref="UdpReactor"/> instead.
/// </summary>
internal static unsafe class UpstreamSockets
{
    /// <summary>The lowest source port drawn; the ports below are privileged and the kernel's own.</summary>
    public const ushort MinPort = 1024;

    /// <summary>Random ports tried before the kernel is left to pick one.</summary>
    public const int BindTries = 8;
    private static readonly IPEndPoint AnyInet = new(IPAddress.Any, 0);
    private static readonly IPEndPoint AnyInet6 = new(IPAddress.IPv6Any, 0);

    /// <summary>
    /// A non-blocking UDP socket bound to a CSPRNG-chosen source port in 1024–65535 and connected to
    /// <paramref name="server"/>, so the kernel drops datagrams from any other address or port (RFC 5452 §9.1,
    /// §9.2; SAD DNS). Returns its descriptor; the caller closes it.
    /// </summary>
    /// <exception cref="SocketException">The socket cannot be opened, bound or connected.</exception>
    public static int OpenConnectedUdp(IPEndPoint server)
    {
        bool inet6 = server.AddressFamily == AddressFamily.InterNetworkV6;
        int descriptor = LinuxSocketCalls.Socket(inet6 ? Sockaddr.AfInet6 : Sockaddr.AfInet,
            LinuxSocketCalls.SockDgram | LinuxSocketCalls.SockNonBlock | LinuxSocketCalls.SockCloExec, 0);
        if (descriptor < 0)
        {
            throw Errno.ToSocketException(Errno.Last);
        }

        byte* address = stackalloc byte[Sockaddr.Inet6Length];
        var sockaddr = new Span<byte>(address, Sockaddr.Inet6Length);
        int length = Sockaddr.Write(sockaddr, WildcardFor(server), 0);
        int error = BindRandomPort(descriptor, address, length);
        if (error == 0)
        {
            length = Sockaddr.Write(sockaddr, server, (ushort)server.Port);
            error = LinuxSocketCalls.Connect(descriptor, address, (uint)length) == 0 ? 0 : Errno.Last;
        }

        if (error != 0)
        {
            LinuxSocketCalls.Close(descriptor);
            throw Errno.ToSocketException(error);
        }

        return descriptor;
    }

    /// <summary>The address a socket that talks to <paramref name="server"/> binds: any address of its family.</summary>
    public static IPEndPoint WildcardFor(IPEndPoint server) => server.AddressFamily == AddressFamily.InterNetworkV6 ? AnyInet6 : AnyInet;

    /// <param name="address">The wildcard sockaddr of the socket's family; its port is set here.</param>
    /// <returns>0, or the errno of the last failed bind.</returns>
    private static int BindRandomPort(int descriptor, byte* address, int length)
    {
        var sockaddr = new Span<byte>(address, length);
        for (int attempt = 0; attempt <= BindTries; attempt++)
        {
            // The last try lets the kernel pick its own random ephemeral port.
            Sockaddr.SetPort(sockaddr, attempt < BindTries ? SecureRandom.NextPort(MinPort) : (ushort)0);
            if (LinuxSocketCalls.Bind(descriptor, address, (uint)length) == 0)
            {
                return 0;
            }

            int error = Errno.Last;
            if (error is not (Errno.AddressInUse or Errno.AccessDenied))
            {
                return error;
            }
        }

        return Errno.AddressInUse;
    }
}
