using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace NodeDns.Interop;

/// <summary>The Linux error numbers NodeDns acts on, and their translation into a <see cref="SocketException"/>.</summary>
internal static class Errno
{
    public const int NotPermitted = 1;        // EPERM
    public const int Interrupted = 4;         // EINTR
    public const int WouldBlock = 11;         // EAGAIN
    public const int AccessDenied = 13;       // EACCES
    public const int SystemFileTableFull = 23; // ENFILE
    public const int TooManyOpenFiles = 24;   // EMFILE
    public const int MessageTooLong = 90;     // EMSGSIZE
    public const int FamilyNotSupported = 97; // EAFNOSUPPORT
    public const int AddressInUse = 98;       // EADDRINUSE
    public const int AddressNotAvailable = 99; // EADDRNOTAVAIL
    public const int NetworkUnreachable = 101; // ENETUNREACH
    public const int NoBufferSpace = 105;     // ENOBUFS
    public const int ConnectionRefused = 111; // ECONNREFUSED
    public const int HostUnreachable = 113;   // EHOSTUNREACH

    public static int Last => Marshal.GetLastPInvokeError();

    /// <summary>A SocketException with the managed error code for <paramref name="errno"/> and the OS's own message.</summary>
    public static SocketException ToSocketException(int errno) => new((int)ToSocketError(errno), Marshal.GetPInvokeErrorMessage(errno));

    private static SocketError ToSocketError(int errno) => errno switch
    {
        ConnectionRefused => SocketError.ConnectionRefused,
        AccessDenied or NotPermitted => SocketError.AccessDenied,
        AddressInUse => SocketError.AddressAlreadyInUse,
        TooManyOpenFiles or SystemFileTableFull or NoBufferSpace => SocketError.TooManyOpenSockets,
        MessageTooLong => SocketError.MessageSize,
        AddressNotAvailable => SocketError.AddressNotAvailable,
        NetworkUnreachable => SocketError.NetworkUnreachable,
        HostUnreachable => SocketError.HostUnreachable,
        FamilyNotSupported => SocketError.AddressFamilyNotSupported,
        _ => SocketError.SocketError,
    };
}
