using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace NodeDns.Interop;

/// <summary>
/// Random bytes from the kernel's CSPRNG (getrandom(2)), the source OpenSSL itself seeds from. Asking the kernel
/// directly keeps OpenSSL out of a daemon that needs no TLS (about 3.4 MiB of resident libcrypto); a kernel without
/// getrandom (before 3.17) falls back to the runtime's generator.
/// </summary>
internal static unsafe partial class KernelRandom
{
    public static void Fill(Span<byte> destination)
    {
        fixed (byte* start = destination)
        {
            int filled = 0;
            while (filled < destination.Length)
            {
                nint got = GetRandom(start + filled, (nuint)(destination.Length - filled), 0);
                if (got > 0)
                {
                    filled += (int)got;
                }
                else if (got == 0 || Errno.Last != Errno.Interrupted)
                {
                    RandomNumberGenerator.Fill(destination[filled..]);
                    return;
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "getrandom", SetLastError = true)]
    private static partial nint GetRandom(byte* buffer, nuint length, uint flags);
}
