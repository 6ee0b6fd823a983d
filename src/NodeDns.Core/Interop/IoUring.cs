using System.Runtime.InteropServices;

namespace NodeDns.Interop;

/// <summary>
/// One io_uring instance (io_uring(7)) used by a single thread: submission entries are prepared in the shared ring and
/// handed to the kernel in one <c>io_uring_enter</c> per batch, completions are read from the completion ring without a
/// system call. A table of fixed ("direct") descriptors lets a chain of linked requests create a socket and use it
/// before user space ever sees a descriptor number. Not thread-safe: only its owner thread touches it.
/// </summary>
internal sealed unsafe partial class IoUring : IDisposable
{
    public const byte OpAsyncCancel = 14;
    public const byte OpConnect = 16;
    public const byte OpClose = 19;
    public const byte OpSend = 26;
    public const byte OpRecv = 27;
    public const byte OpSocket = 45;
    public const byte OpBind = 56;

    public const byte FixedFile = 1 << 0;       // IOSQE_FIXED_FILE
    public const byte Link = 1 << 2;            // IOSQE_IO_LINK
    public const byte SkipSuccess = 1 << 6;     // IOSQE_CQE_SKIP_SUCCESS

    public const int Canceled = 125;            // ECANCELED

    private const int SetupSyscall = 425;       // io_uring_setup, io_uring_enter, io_uring_register: the same numbers on every architecture
    private const int EnterSyscall = 426;
    private const int RegisterSyscall = 427;
    private const uint EnterGetEvents = 1;
    private const uint RegisterFiles = 2;
    private const uint RegisterProbe = 8;
    private const uint SetupCompletionSize = 1 << 3;
    private const uint SetupClamp = 1 << 4;
    private const uint SetupSubmitAll = 1 << 7;
    private const uint SetupCoopTaskRun = 1 << 8;
    private const uint SetupTaskRunFlag = 1 << 9;
    private const uint SubmissionCompletionOverflow = 1 << 1; // IORING_SQ_CQ_OVERFLOW
    private const uint SubmissionTaskRun = 1 << 2;            // IORING_SQ_TASKRUN
    private const uint FeatureSingleMmap = 1 << 0;
    private const uint FeatureNoDrop = 1 << 1;
    private const long CompletionRingOffset = 0x8000000;
    private const long EntriesOffset = 0x10000000;
    private const int EntryLength = 64;
    private const int CompletionLength = 16;
    private const int ProbeOpCount = 64;

    private readonly int _ring;
    private readonly byte* _submissionRing;
    private readonly nuint _submissionRingLength;
    private readonly byte* _completionRing;
    private readonly nuint _completionRingLength;
    private readonly byte* _entries;
    private readonly nuint _entriesLength;
    private readonly uint* _submissionTail;
    private readonly uint* _submissionHead;
    private readonly uint* _submissionFlags;
    private readonly uint _submissionMask;
    private readonly uint _submissionCount;
    private readonly uint* _completionHead;
    private readonly uint* _completionTail;
    private readonly uint _completionMask;
    private readonly byte* _completions;
    private uint _prepared;   // entries written since the last submit
    private uint _localTail;

    private IoUring(int ring, in Params p)
    {
        _ring = ring;
        _submissionRingLength = p.SqOff.Array + (p.SqEntries * sizeof(uint));
        _completionRingLength = p.CqOff.Cqes + (p.CqEntries * CompletionLength);
        if ((p.Features & FeatureSingleMmap) != 0)
        {
            _submissionRingLength = _completionRingLength = Math.Max(_submissionRingLength, _completionRingLength);
        }

        _submissionRing = Map(_submissionRingLength, 0);
        _completionRing = (p.Features & FeatureSingleMmap) != 0 ? _submissionRing : Map(_completionRingLength, CompletionRingOffset);
        _entriesLength = p.SqEntries * EntryLength;
        _entries = Map(_entriesLength, EntriesOffset);

        _submissionHead = (uint*)(_submissionRing + p.SqOff.Head);
        _submissionTail = (uint*)(_submissionRing + p.SqOff.Tail);
        _submissionFlags = (uint*)(_submissionRing + p.SqOff.Flags);
        _submissionMask = *(uint*)(_submissionRing + p.SqOff.RingMask);
        _submissionCount = p.SqEntries;
        uint* array = (uint*)(_submissionRing + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
        {
            array[i] = i; // entry i always sits in slot i: the array indirection is not used
        }

        _localTail = *_submissionTail;
        _completionHead = (uint*)(_completionRing + p.CqOff.Head);
        _completionTail = (uint*)(_completionRing + p.CqOff.Tail);
        _completionMask = *(uint*)(_completionRing + p.CqOff.RingMask);
        _completions = _completionRing + p.CqOff.Cqes;
    }

    /// <summary>The ring's own descriptor: readable (for epoll) while completions wait.</summary>
    public int Descriptor => _ring;

    /// <summary>Submission entries prepared and not yet handed to the kernel.</summary>
    public uint Prepared => _prepared;

    /// <summary>
    /// A ring with <paramref name="entries"/> submission entries, room for <paramref name="completions"/> completions
    /// (more wait in the kernel, which never drops one) and <paramref name="fixedFiles"/> empty slots for
    /// direct descriptors, when the kernel supports every opcode in <paramref name="required"/>; otherwise null with the
    /// reason (an old kernel, io_uring disabled by sysctl or by a container's seccomp profile).
    /// </summary>
    public static IoUring? TryCreate(uint entries, uint completions, int fixedFiles, ReadOnlySpan<byte> required, out string? reason)
    {
        Params p = default;
        p.CqEntries = completions;
        // Cooperative task running: a completion never interrupts the thread with an IPI; it runs at the thread's next
        // system call (every loop turn makes several) or wakes it when it sleeps.
        p.Flags = SetupCompletionSize | SetupClamp | SetupSubmitAll | SetupCoopTaskRun | SetupTaskRunFlag;
        int ring = (int)Syscall(SetupSyscall, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        if (ring < 0)
        {
            reason = $"io_uring_setup failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
            return null;
        }

        if ((p.Features & FeatureNoDrop) == 0)
        {
            LinuxSocketCalls.Close(ring);
            reason = "the kernel's io_uring may drop completions (before Linux 5.5)";
            return null;
        }

        IoUring? created = null;
        try
        {
            created = new IoUring(ring, p);
            reason = created.Probe(required) ?? created.RegisterEmptyFiles(fixedFiles);
        }
        catch (OutOfMemoryException e)
        {
            reason = e.Message;
        }

        if (reason is null)
        {
            return created;
        }

        if (created is not null)
        {
            created.Dispose();
        }
        else
        {
            LinuxSocketCalls.Close(ring);
        }

        return null;
    }

    private string? Probe(ReadOnlySpan<byte> required)
    {
        int length = 16 + (ProbeOpCount * 8);
        byte* probe = stackalloc byte[length];
        new Span<byte>(probe, length).Clear();
        if (Syscall(RegisterSyscall, _ring, (nint)RegisterProbe, (nint)probe, ProbeOpCount, 0, 0) < 0)
        {
            return $"io_uring cannot report its operations: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}";
        }

        int known = probe[1]; // ops_len
        foreach (byte op in required)
        {
            const ushort Supported = 1;
            if (op >= known || (*(ushort*)(probe + 16 + (op * 8) + 2) & Supported) == 0)
            {
                return $"this kernel's io_uring lacks operation {op} (socket and bind need Linux 6.11)";
            }
        }

        return null;
    }

    private string? RegisterEmptyFiles(int count)
    {
        int* descriptors = (int*)NativeMemory.Alloc((nuint)(count * sizeof(int)));
        try
        {
            new Span<int>(descriptors, count).Fill(-1); // -1: an empty slot
            return Syscall(RegisterSyscall, _ring, (nint)RegisterFiles, (nint)descriptors, count, 0, 0) < 0
                ? $"io_uring cannot register {count} descriptor slots: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}"
                : null;
        }
        finally
        {
            NativeMemory.Free(descriptors);
        }
    }

    /// <summary>Free submission entries, counting those prepared but not yet submitted.</summary>
    public uint FreeEntries => _submissionCount - (_localTail - Volatile.Read(ref *_submissionHead));

    /// <summary>A zeroed submission entry to fill; the caller made sure one is free (<see cref="FreeEntries"/>).</summary>
    public Entry* NextEntry()
    {
        var entry = (Entry*)(_entries + ((_localTail & _submissionMask) * EntryLength));
        *entry = default;
        _localTail++;
        _prepared++;
        return entry;
    }

    /// <summary>Hands the prepared entries to the kernel; returns false with errno set when it refused them.</summary>
    public bool Submit()
    {
        if (_prepared == 0)
        {
            return true;
        }

        Volatile.Write(ref *_submissionTail, _localTail);
        while (true)
        {
            long submitted = Syscall(EnterSyscall, _ring, (nint)_prepared, 0, 0, 0, 0);
            if (submitted >= 0)
            {
                _prepared -= (uint)Math.Min(submitted, _prepared);
                if (_prepared == 0 || submitted == 0)
                {
                    return _prepared == 0;
                }

                continue;
            }

            if (Marshal.GetLastPInvokeError() != Errno.Interrupted)
            {
                return false;
            }
        }
    }

    /// <summary>Reads the oldest completion, if any, without consuming it.</summary>
    public bool TryPeek(out Completion completion)
    {
        uint head = *_completionHead;
        if (head == Volatile.Read(ref *_completionTail))
        {
            completion = default;
            return false;
        }

        completion = *(Completion*)(_completions + ((head & _completionMask) * CompletionLength));
        return true;
    }

    /// <summary>
    /// Whether completions wait for this thread to enter the kernel (work the kernel queued for it, e.g. a reply that
    /// arrived while the thread was running): <see cref="RunPendingWork"/> before sleeping, or they wait with it.
    /// </summary>
    public bool HasPendingWork => (Volatile.Read(ref *_submissionFlags) & (SubmissionTaskRun | SubmissionCompletionOverflow)) != 0;

    /// <summary>
    /// Enters the kernel to run the work queued for this thread, which posts its completions, and to move completions
    /// that found the ring full (the kernel keeps them, it never drops one) into it.
    /// </summary>
    public void RunPendingWork() => Syscall(EnterSyscall, _ring, 0, 0, (nint)EnterGetEvents, 0, 0);

    /// <summary>Consumes the completion <see cref="TryPeek"/> returned.</summary>
    public void Advance() => Volatile.Write(ref *_completionHead, *_completionHead + 1);

    public void Dispose()
    {
        Unmap(_entries, _entriesLength);
        if (_completionRing != _submissionRing)
        {
            Unmap(_completionRing, _completionRingLength);
        }

        Unmap(_submissionRing, _submissionRingLength);
        LinuxSocketCalls.Close(_ring);
    }

    private byte* Map(nuint length, long offset)
    {
        const int ProtRead = 1;
        const int ProtWrite = 2;
        const int MapShared = 0x01;
        const int MapPopulate = 0x8000;
        void* address = Mmap(null, length, ProtRead | ProtWrite, MapShared | MapPopulate, _ring, (nint)offset);
        return address == (void*)-1
            ? throw new OutOfMemoryException($"io_uring ring mapping failed: errno {Marshal.GetLastPInvokeError()}")
            : (byte*)address;
    }

    private static void Unmap(byte* address, nuint length)
    {
        if (address != null)
        {
            Munmap(address, length);
        }
    }

    /// <summary><c>struct io_uring_sqe</c>, the fields used here.</summary>
    [StructLayout(LayoutKind.Explicit, Size = EntryLength)]
    public struct Entry
    {
        [FieldOffset(0)] public byte Opcode;
        [FieldOffset(1)] public byte Flags;
        [FieldOffset(4)] public int Descriptor;
        [FieldOffset(8)] public ulong Offset;          // off / addr2: an address length, a socket type
        [FieldOffset(16)] public ulong Address;
        [FieldOffset(24)] public uint Length;
        [FieldOffset(28)] public uint OperationFlags;  // msg_flags, cancel_flags
        [FieldOffset(32)] public ulong UserData;
        [FieldOffset(44)] public uint FileIndex;       // a direct descriptor's slot + 1
    }

    /// <summary><c>struct io_uring_cqe</c>.</summary>
    [StructLayout(LayoutKind.Sequential, Size = CompletionLength)]
    public readonly struct Completion
    {
        public readonly ulong UserData;
        public readonly int Result;
        public readonly uint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SubmissionOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Flags, Dropped, Array, Reserved;
        public ulong UserAddress;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CompletionOffsets
    {
        public uint Head, Tail, RingMask, RingEntries, Overflow, Cqes, Flags, Reserved;
        public ulong UserAddress;
    }

    /// <summary><c>struct io_uring_params</c> (120 bytes).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries, CqEntries, Flags, SqThreadCpu, SqThreadIdle, Features, WqFd, Reserved0, Reserved1, Reserved2;
        public SubmissionOffsets SqOff;
        public CompletionOffsets CqOff;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, nint a, nint b, nint c, nint d, nint e, nint f);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);
}
