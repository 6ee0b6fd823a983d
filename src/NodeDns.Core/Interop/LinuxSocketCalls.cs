using System.Runtime.InteropServices;

namespace NodeDns.Interop;

/// <summary>
/// The Linux socket calls made directly: those the managed Socket has no API for, and the handful a fresh upstream
/// socket per query needs without the cost of a managed Socket. x86-64/arm64 layouts of the structs.
/// </summary>
internal static unsafe partial class LinuxSocketCalls
{
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgWaitForOne = 0x10000;
    public const int MsgTrunc = 0x20;
    public const int MsgDontWait = 0x40;
    public const int SockDgram = 2;
    public const int SockNonBlock = 0x800;
    public const int SockCloExec = 0x80000;

    /// <summary>sizeof(struct cmsghdr): cmsg_len (size_t), cmsg_level, cmsg_type.</summary>
    public const int CmsgHeaderLength = 16;

    [StructLayout(LayoutKind.Sequential)]
    public struct CmsgHdr
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>
    /// The struct sizes of the 64-bit Linux ABI that the declarations above assume (iovec 16, msghdr 56, mmsghdr 64,
    /// cmsghdr 16 bytes); null when they hold, else what differs. The daemon refuses to start on a mismatch rather
    /// than pass the kernel wrong layouts.
    /// </summary>
    public static string? CheckLayouts()
    {
        (string Name, int Actual, int Expected)[] sizes =
        [
            ("iovec", sizeof(IoVec), 16), ("msghdr", sizeof(MsgHdr), 56), ("mmsghdr", sizeof(MMsgHdr), 64), ("cmsghdr", sizeof(CmsgHdr), CmsgHeaderLength),
        ];
        string[] wrong = [.. sizes.Where(s => s.Actual != s.Expected).Select(s => $"{s.Name} is {s.Actual} bytes, not {s.Expected}")];
        return wrong.Length == 0 ? null : string.Join("; ", wrong);
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "bind", SetLastError = true)]
    public static partial int Bind(int socket, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int socket, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int socket, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendto", SetLastError = true)]
    public static partial nint SendTo(int socket, byte* buffer, nuint length, int flags, byte* address, uint addressLength);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int socket, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int descriptor);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMMsg(int socket, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    public static partial int SendMMsg(int socket, MMsgHdr* messages, uint count, int flags);

    /// <summary>sendmmsg until every message went out or was refused; a refused one is skipped. Returns how many were refused.</summary>
    public static int SendAll(int socket, MMsgHdr* messages, int count)
    {
        int sent = 0;
        int failed = 0;
        while (sent + failed < count)
        {
            int done = SendMMsg(socket, messages + sent + failed, (uint)(count - sent - failed), 0);
            if (done > 0)
            {
                sent += done;
            }
            else
            {
                failed++; // e.g. an unreachable client
            }
        }

        return failed;
    }
}
