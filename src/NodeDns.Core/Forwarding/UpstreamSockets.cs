using System.Buffers.Binary;
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
    private const ushort MinPort = 1024;
    private const int BindTries = 8;
    private const int SockaddrIn6Length = 28;
    private const int SockaddrInLength = 16;

    /// <summary>
    /// A non-blocking UDP socket bound to a CSPRNG-chosen source port in 1024–65535 and connected to
    /// <paramref name="server"/>, so the kernel drops datagrams from any other address or port (RFC 5452 §9.1,
    /// §9.2; SAD DNS). Returns its descriptor; the caller closes it.
    /// </summary>
    /// <exception cref="SocketException">The socket cannot be opened, bound or connected.</exception>
    public static int OpenConnectedUdp(IPEndPoint server)
    {
        bool v6 = server.AddressFamily == AddressFamily.InterNetworkV6;
        int family = v6 ? 10 : 2;
        int descriptor = LinuxSocketCalls.Socket(family, LinuxSocketCalls.SockDgram | LinuxSocketCalls.SockNonBlock | LinuxSocketCalls.SockCloExec, 0);
        if (descriptor < 0)
        {
            throw Errno.ToSocketException(Errno.Last);
        }

        byte* address = stackalloc byte[SockaddrIn6Length];
        uint length = (uint)(v6 ? SockaddrIn6Length : SockaddrInLength);
        int error = BindRandomPort(descriptor, family, address, length);
        if (error == 0)
        {
            WriteSockaddr(new Span<byte>(address, (int)length), family, server);
            error = LinuxSocketCalls.Connect(descriptor, address, length) == 0 ? 0 : Errno.Last;
        }

        if (error != 0)
        {
            LinuxSocketCalls.Close(descriptor);
            throw Errno.ToSocketException(error);
        }

        return descriptor;
    }

    /// <returns>0, or the errno of the last failed bind.</returns>
    private static int BindRandomPort(int descriptor, int family, byte* address, uint length)
    {
        var sockaddr = new Span<byte>(address, (int)length);
        for (int attempt = 0; attempt <= BindTries; attempt++)
        {
            sockaddr.Clear();
            BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, (ushort)family);
            // The last try lets the kernel pick its own random ephemeral port.
            BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..], attempt < BindTries ? SecureRandom.NextPort(MinPort) : (ushort)0);
            if (LinuxSocketCalls.Bind(descriptor, address, length) == 0)
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

    private static void WriteSockaddr(Span<byte> sockaddr, int family, IPEndPoint endPoint)
    {
        sockaddr.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(sockaddr, (ushort)family);
        BinaryPrimitives.WriteUInt16BigEndian(sockaddr[2..], (ushort)endPoint.Port);
        if (family == 10)
        {
            endPoint.Address.TryWriteBytes(sockaddr[8..], out _);
            BinaryPrimitives.WriteUInt32LittleEndian(sockaddr[24..], (uint)endPoint.Address.ScopeId);
        }
        else
        {
            endPoint.Address.TryWriteBytes(sockaddr[4..], out _);
        }
    }
}
