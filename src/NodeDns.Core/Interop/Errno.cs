using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NodeDns.Interop;

/// <summary>The Linux error numbers NodeDns acts on, and their translation into a <see cref="SocketException"/>.</summary>
internal static class Errno
{
    public const int Interrupted = 4;         // EINTR
    public const int WouldBlock = 11;         // EAGAIN
    public const int AccessDenied = 13;       // EACCES
    public const int AddressInUse = 98;       // EADDRINUSE
    public const int ConnectionRefused = 111; // ECONNREFUSED

    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>A SocketException with the managed error code for <paramref name="errno"/> and the OS's own message.</summary>
    public static SocketException ToSocketException(int errno) => new((int)ToSocketError(errno), Marshal.GetPInvokeErrorMessage(errno));

    private static SocketError ToSocketError(int errno) => errno switch
    {
        ConnectionRefused => SocketError.ConnectionRefused,
        AccessDenied or 1 => SocketError.AccessDenied,
        AddressInUse => SocketError.AddressAlreadyInUse,
        24 or 23 or 105 => SocketError.TooManyOpenSockets, // EMFILE, ENFILE, ENOBUFS
        90 => SocketError.MessageSize,                      // EMSGSIZE
        99 => SocketError.AddressNotAvailable,              // EADDRNOTAVAIL
        101 => SocketError.NetworkUnreachable,              // ENETUNREACH
        113 => SocketError.HostUnreachable,                 // EHOSTUNREACH
        97 => SocketError.AddressFamilyNotSupported,        // EAFNOSUPPORT
        _ => SocketError.SocketError,
    };
}
