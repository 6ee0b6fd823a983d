using System.Net.Sockets;
using System.Runtime.InteropServices;
using static NodeDns.Interop.LinuxSocketCalls;

namespace NodeDns.Daemon.Handoff;

/// <summary>
/// Sends and receives open file descriptors over a Unix domain socket (SCM_RIGHTS, unix(7)): the receiving process
/// gets its own descriptors for the very same kernel sockets, so nothing queued on them is lost in a hand-off.
/// Linux x86-64/arm64 layouts of msghdr and cmsghdr.
/// </summary>
internal static unsafe class UnixFdPassing
{
    public const int MaxDescriptors = 64;

    /// <summary>Sends <paramref name="payload"/> with <paramref name="descriptors"/> attached, in one message.</summary>
    public static void Send(Socket unix, ReadOnlySpan<byte> payload, IReadOnlyList<int> descriptors)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(descriptors.Count, MaxDescriptors);
        int dataLength = descriptors.Count * sizeof(int);
        int controlLength = CmsgHeaderLength + ((dataLength + 7) & ~7);
        byte* control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        *(CmsgHdr*)control = new CmsgHdr { Length = (nuint)(CmsgHeaderLength + dataLength), Level = SolSocket, Type = ScmRights };
        for (int i = 0; i < descriptors.Count; i++)
        {
            ((int*)(control + CmsgHeaderLength))[i] = descriptors[i];
        }

        fixed (byte* data = payload)
        {
            var iov = new IoVec { Base = data, Length = (nuint)payload.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlLength };
            int fd = (int)unix.SafeHandle.DangerousGetHandle();
            unix.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectWrite);
            if (SendMsg(fd, &message, 0) != payload.Length)
            {
                throw new SocketException(Marshal.GetLastPInvokeError());
            }
        }
    }

    /// <summary>Receives up to <paramref name="buffer"/>.Length bytes and any descriptors that came with them.</summary>
    public static int Receive(Socket unix, Span<byte> buffer, List<int> descriptors, TimeSpan timeout)
    {
        if (!unix.Poll(timeout, SelectMode.SelectRead))
        {
            throw new TimeoutException("no hand-off message in time");
        }

        int controlLength = CmsgHeaderLength + (MaxDescriptors * sizeof(int));
        byte* control = stackalloc byte[controlLength];
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)buffer.Length };
            var message = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = (nuint)controlLength };
            nint received = RecvMsg((int)unix.SafeHandle.DangerousGetHandle(), &message, 0);
            if (received < 0)
            {
                throw new SocketException(Marshal.GetLastPInvokeError());
            }

            var header = (CmsgHdr*)control;
            if (message.ControlLength >= CmsgHeaderLength && header->Level == SolSocket && header->Type == ScmRights)
            {
                int count = (int)((header->Length - CmsgHeaderLength) / sizeof(int));
                for (int i = 0; i < count; i++)
                {
                    descriptors.Add(((int*)(control + CmsgHeaderLength))[i]);
                }
            }

            return (int)received;
        }
    }
}
