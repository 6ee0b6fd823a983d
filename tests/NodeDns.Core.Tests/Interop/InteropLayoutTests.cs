using System.Net;
using NodeDns.Interop;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests.Interop;

public class InteropLayoutTests
{
    [Fact]
    public void The_struct_layouts_match_this_platform() => Assert.Null(LinuxSocketCalls.CheckLayouts());

    [Theory]
    [InlineData("192.0.2.7", 53, Sockaddr.InetLength)]
    [InlineData("2001:db8::7", 5353, Sockaddr.Inet6Length)]
    public void A_written_sockaddr_reads_back_as_the_same_client(string address, int port, int length)
    {
        Span<byte> sockaddr = stackalloc byte[Sockaddr.Inet6Length];
        Assert.Equal(length, Sockaddr.Write(sockaddr, new IPEndPoint(IPAddress.Parse(address), port), (ushort)port));
        Assert.Equal(ClientAddress.From(IPAddress.Parse(address)), ClientAddress.FromSockaddr(sockaddr[..length]));
        Assert.Equal(port, (sockaddr[2] << 8) | sockaddr[3]); // network byte order
    }

    [Fact]
    public void A_cache_key_reads_back_its_parts()
    {
        byte[] key = new byte[CacheKey.MaxLength];
        byte[] name = Wire.Name("a.example");
        name.CopyTo(key, 0);
        int length = CacheKey.WriteSuffix(key, name.Length, DnsType.AAAA, DnsClass.IN, dnssecOk: true, checkingDisabled: false);

        Assert.Equal(name.Length + CacheKey.SuffixLength, length);
        Assert.Equal(name, CacheKey.Name(key.AsSpan(0, length)).ToArray());
        Assert.Equal(DnsType.AAAA, CacheKey.Type(key.AsSpan(0, length)));
        Assert.Equal(DnsClass.IN, CacheKey.Class(key.AsSpan(0, length)));
        Assert.Equal(CacheKey.FlagDnssecOk, key[length - 1]);
    }
}
