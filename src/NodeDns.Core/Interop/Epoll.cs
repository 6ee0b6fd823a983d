using System.Runtime.InteropServices;

namespace NodeDns.Interop;

/// <summary>
/// An epoll set (epoll(7)) with an eventfd to wake its waiter from other threads. Each registered descriptor carries
/// itself as the event's data. Level-triggered. <c>struct epoll_event</c> is packed on x86-64 (12 bytes) and naturally
/// aligned elsewhere (16 bytes), so events are read from a raw buffer with the stride of the running architecture.
/// </summary>
internal sealed unsafe partial class Epoll : IDisposable
{
    public const uint Readable = 0x001;   // EPOLLIN
    private const int Add = 1;            // EPOLL_CTL_ADD
    private const int Delete = 2;         // EPOLL_CTL_DEL
    private const int CloseOnExec = 0x80000;
    private const int NonBlocking = 0x800;

    private static readonly int EventStride = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly byte* _events;
    private readonly int _capacity;

    public Epoll(int capacity)
    {
        _capacity = capacity;
        _epoll = EpollCreate1(CloseOnExec);
        if (_epoll < 0)
        {
            throw Errno.ToSocketException(Errno.Last);
        }

        _wake = EventFd(0, CloseOnExec | NonBlocking);
        if (_wake < 0 || !TryAdd(_wake))
        {
            int error = Errno.Last;
            LinuxSocketCalls.Close(_epoll);
            throw Errno.ToSocketException(error);
        }

        _events = (byte*)NativeMemory.Alloc((nuint)(capacity * EventStride));
    }

    /// <summary>Watches <paramref name="descriptor"/> for readability; false (with errno set) when the kernel refuses.</summary>
    public bool TryAdd(int descriptor)
    {
        byte* ev = stackalloc byte[16];
        *(uint*)ev = Readable;
        *(ulong*)(ev + DataOffset) = (ulong)descriptor;
        return EpollCtl(_epoll, Add, descriptor, ev) == 0;
    }

    /// <summary>Stops watching <paramref name="descriptor"/> (closing a descriptor also removes it).</summary>
    public void Remove(int descriptor)
    {
        byte* ev = stackalloc byte[16];
        EpollCtl(_epoll, Delete, descriptor, ev);
    }

    /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> (-1: forever) for readiness; returns the number of events.</summary>
    public int Wait(int timeoutMilliseconds)
    {
        int count = EpollWait(_epoll, _events, _capacity, timeoutMilliseconds);
        return count >= 0 ? count : 0; // EINTR: as if nothing happened; the caller loops
    }

    /// <summary>The descriptor of event <paramref name="index"/> of the last <see cref="Wait"/>; the wake-up event is reported as -1 (and consumed).</summary>
    public int Descriptor(int index)
    {
        int descriptor = (int)*(ulong*)(_events + (index * EventStride) + DataOffset);
        if (descriptor != _wake)
        {
            return descriptor;
        }

        ulong drained;
        ReadEventFd(_wake, &drained, sizeof(ulong));
        return -1;
    }

    /// <summary>Makes a <see cref="Wait"/> in progress (or the next one) return at once. Any thread.</summary>
    public void WakeUp()
    {
        ulong one = 1;
        WriteEventFd(_wake, &one, sizeof(ulong));
    }

    public void Dispose()
    {
        LinuxSocketCalls.Close(_wake);
        LinuxSocketCalls.Close(_epoll);
        NativeMemory.Free(_events);
    }

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static partial int EpollCtl(int epoll, int operation, int descriptor, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static partial int EpollWait(int epoll, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    private static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadEventFd(int descriptor, ulong* value, nuint length);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteEventFd(int descriptor, ulong* value, nuint length);
}
