using NodeDns.Interop;

namespace NodeDns.Core.Tests;

public class KernelRandomTests
{
    [Fact]
    public void Fills_the_whole_buffer_with_bytes_that_differ_from_call_to_call_and_cover_every_value()
    {
        byte[] first = new byte[64 * 1024];
        byte[] second = new byte[64 * 1024];

        KernelRandom.Fill(first);
        KernelRandom.Fill(second);

        Assert.False(first.AsSpan().SequenceEqual(second));
        var counts = new int[256];
        foreach (byte b in first)
        {
            counts[b]++;
        }

        // 256 expected per value; a missing value, or one 4x over, would mean a broken source (or a zero tail).
        Assert.All(counts, count => Assert.InRange(count, 128, 1024));
        Assert.NotEqual(0, first[^1] | first[^2] | first[^3] | first[^4]);
    }
}
