using System.Buffers.Binary;
using System.Net;
using System.Text;
using NodeDns.Dnstap;

namespace NodeDns.Core.Tests.Dnstap;

/// <summary>The encoder's output read back by a protobuf reader written here from dnstap.proto's field numbers.</summary>
public sealed class DnstapEncoderTests
{
    private static Dictionary<int, List<object>> Fields(ReadOnlySpan<byte> message)
    {
        var fields = new Dictionary<int, List<object>>();
        while (!message.IsEmpty)
        {
            ulong key = Varint(ref message);
            int number = (int)(key >> 3);
            object value = (key & 7) switch
            {
                0 => Varint(ref message),
                2 => Take(ref message, (int)Varint(ref message)),
                5 => (ulong)BinaryPrimitives.ReadUInt32LittleEndian(Take(ref message, 4)),
                _ => throw new InvalidDataException($"wire type {key & 7}"),
            };
            (fields.TryGetValue(number, out List<object>? list) ? list : fields[number] = []).Add(value);
        }

        return fields;
    }

    private static ulong Varint(ref ReadOnlySpan<byte> data)
    {
        ulong value = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = data[0];
            data = data[1..];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }

    private static byte[] Take(ref ReadOnlySpan<byte> data, int length)
    {
        byte[] taken = data[..length].ToArray();
        data = data[length..];
        return taken;
    }

    private static (Dictionary<int, List<object>> Outer, Dictionary<int, List<object>> Message) Encode(DnstapMessageTypes type, bool tcp,
        DnstapPeer initiator, DnstapPeer responder, byte[] dns, long unixTicks)
    {
        var queue = new DnstapQueue(2);
        Assert.True(queue.TryEnqueue(type, tcp, initiator, responder, dns, unixTicks));
        var encoder = new DnstapEncoder("node-a"u8.ToArray(), "nodedns 1.0"u8.ToArray());
        byte[] buffer = new byte[encoder.MaxLength(dns.Length)];
        int length = encoder.Write(queue.Peek()!, buffer);
        Dictionary<int, List<object>> outer = Fields(buffer.AsSpan(0, length));
        return (outer, Fields((byte[])outer[14].Single()));
    }

    [Fact]
    public void A_client_query_over_udp_ipv4_carries_every_field()
    {
        byte[] dns = new byte[300];
        Random.Shared.NextBytes(dns);
        long ticks = new DateTime(2026, 12, 2, 7, 0, 0, DateTimeKind.Utc).Ticks - DateTime.UnixEpoch.Ticks + 1234567;
        (var outer, var message) = Encode(DnstapMessageTypes.ClientQuery, tcp: false, DnstapPeer.From(IPEndPoint.Parse("10.1.2.3:40001")),
            DnstapPeer.From(IPEndPoint.Parse("169.254.20.10:53")), dns, ticks);

        Assert.Equal("node-a", Encoding.UTF8.GetString((byte[])outer[1].Single()));
        Assert.Equal("nodedns 1.0", Encoding.UTF8.GetString((byte[])outer[2].Single()));
        Assert.Equal(1UL, outer[15].Single()); // Dnstap.Type MESSAGE
        Assert.Equal(5UL, message[1].Single()); // CLIENT_QUERY
        Assert.Equal(1UL, message[2].Single()); // INET
        Assert.Equal(1UL, message[3].Single()); // UDP
        Assert.Equal(new byte[] { 10, 1, 2, 3 }, message[4].Single());
        Assert.Equal(new byte[] { 169, 254, 20, 10 }, message[5].Single());
        Assert.Equal(40001UL, message[6].Single());
        Assert.Equal(53UL, message[7].Single());
        Assert.Equal((ulong)(ticks / TimeSpan.TicksPerSecond), message[8].Single());
        Assert.Equal((ulong)(ticks % TimeSpan.TicksPerSecond * 100), message[9].Single());
        Assert.Equal(dns, message[10].Single());
        Assert.False(message.ContainsKey(12) || message.ContainsKey(14)); // no response fields in a query
    }

    [Fact]
    public void A_forwarder_response_over_tcp_ipv6_has_the_upstream_and_a_response_time_and_no_local_address()
    {
        byte[] dns = new byte[65_535];
        dns[^1] = 0xAB;
        (_, var message) = Encode(DnstapMessageTypes.ForwarderResponse, tcp: true, default, DnstapPeer.From(IPEndPoint.Parse("[2001:db8::53]:5353")), dns, 10);

        Assert.Equal(8UL, message[1].Single()); // FORWARDER_RESPONSE
        Assert.Equal(2UL, message[2].Single()); // INET6
        Assert.Equal(2UL, message[3].Single()); // TCP
        Assert.False(message.ContainsKey(4) || message.ContainsKey(6)); // the query's source is not recorded
        Assert.Equal(IPAddress.Parse("2001:db8::53").GetAddressBytes(), message[5].Single());
        Assert.Equal(5353UL, message[7].Single());
        Assert.Equal(0UL, message[12].Single());
        Assert.Equal(1000UL, message[13].Single());
        Assert.Equal(dns, message[14].Single());
    }

    [Fact]
    public void An_ipv4_client_seen_through_a_dual_stack_socket_is_recorded_as_ipv4()
    {
        var mapped = DnstapPeer.From(new IPEndPoint(IPAddress.Parse("10.1.2.3").MapToIPv6(), 1000));
        (_, var message) = Encode(DnstapMessageTypes.ClientResponse, tcp: false, mapped, DnstapPeer.From(IPEndPoint.Parse("[::]:53")), [1, 2, 3], 1);
        Assert.Equal(new byte[] { 10, 1, 2, 3 }, message[4].Single());
        Assert.Equal(6UL, message[1].Single()); // CLIENT_RESPONSE
    }
}
