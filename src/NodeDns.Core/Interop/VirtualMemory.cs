using System.Runtime.InteropServices;

namespace NodeDns.Interop;

/// <summary>Anonymous memory straight from the kernel: mapped lazily (pages cost RSS only once touched) and given back page-wise.</summary>
internal static unsafe partial class VirtualMemory
{
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const int MapNoReserve = 0x4000;
    private const int MadvDontNeed = 4;

    /// <summary>Maps <paramref name="length"/> bytes of zeroed, readable and writable memory; throws when the kernel refuses.</summary>
    public static nint Map(nuint length)
    {
        void* address = Mmap(null, length, ProtRead | ProtWrite, MapPrivate | MapAnonymous | MapNoReserve, -1, 0);
        return address == (void*)-1
            ? throw new OutOfMemoryException($"mmap of {length} bytes failed: errno {Marshal.GetLastPInvokeError()}")
            : (nint)address;
    }

    public static void Unmap(nint address, nuint length) => Munmap((void*)address, length);

    /// <summary>
    /// Gives the pages back to the kernel. The range stays mapped: reading it afterwards is safe and sees zeros, which
    /// is what lets readers that race with a release read it without faulting.
    /// </summary>
    public static void Release(nint address, nuint length) => Madvise((void*)address, length, MadvDontNeed);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial void* Mmap(void* address, nuint length, int protection, int flags, int descriptor, nint offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(void* address, nuint length);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);
}
