using System.Buffers.Binary;
using NodeDns.Interop;

namespace NodeDns.Forwarding;

/// <summary>
/// Query IDs and source ports from the kernel's CSPRNG (RFC 5452 §9.2; see <see cref="KernelRandom"/>), drawn from a
/// per-thread block of random bytes so that one call into the CSPRNG serves a few hundred queries instead of two per query.
/// </summary>
internal static class SecureRandom
{
    private const int BlockLength = 1024;

    [ThreadStatic]
    private static byte[]? t_block;

    [ThreadStatic]
    private static int t_next;

    public static ushort NextUInt16()
    {
        byte[]? block = t_block;
        if (block is null || t_next > BlockLength - sizeof(ushort))
        {
            block = t_block ??= new byte[BlockLength];
            KernelRandom.Fill(block);
            t_next = 0;
        }

        ushort value = BinaryPrimitives.ReadUInt16LittleEndian(block.AsSpan(t_next));
        t_next += sizeof(ushort);
        return value;
    }

    /// <summary>A port in [<paramref name="minimum"/>, 65535], uniformly: values below are drawn again.</summary>
    public static ushort NextPort(ushort minimum)
    {
        while (true)
        {
            ushort port = NextUInt16();
            if (port >= minimum)
            {
                return port;
            }
        }
    }
}
