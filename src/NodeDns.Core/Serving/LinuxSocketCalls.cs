using System.Runtime.InteropServices;

namespace NodeDns.Serving;

/// <summary>The Linux socket calls the managed Socket has no API for, with the x86-64/arm64 layouts of their structs.</summary>
internal static unsafe partial class LinuxSocketCalls
{
    public const int SolSocket = 1;
    public const int ScmRights = 1;
    public const int MsgWaitForOne = 0x10000;
    public const int MsgTrunc = 0x20;

    /// <summary>sizeof(struct cmsghdr): cmsg_len (size_t), cmsg_level, cmsg_type.</summary>
    public const int CmsgHeaderLength = 16;

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

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmsg", SetLastError = true)]
    public static partial nint RecvMsg(int socket, MsgHdr* message, int flags);

    [LibraryImport("libc", EntryPoint = "recvmmsg", SetLastError = true)]
    public static partial int RecvMMsg(int socket, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", EntryPoint = "sendmmsg", SetLastError = true)]
    public static partial int SendMMsg(int socket, MMsgHdr* messages, uint count, int flags);
}
