using System.Buffers.Binary;
using System.Text;

namespace NodeDns.Core.Tests;

/// <summary>
/// A test-only DNS message builder, written independently of the product's encoder, so tests never compare the
/// product's output with bytes the product made. No compression unless a test writes pointers itself.
/// </summary>
internal sealed class Wire
{
    private readonly List<byte> _bytes = [];

    public static byte[] Name(string dotted)
    {
        var bytes = new List<byte>();
        foreach (string label in dotted.TrimEnd('.').Split('.', StringSplitOptions.RemoveEmptyEntries))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public Wire Header(ushort id, ushort flags, int qd, int an, int ns, int ar) =>
        U16(id).U16(flags).U16((ushort)qd).U16((ushort)an).U16((ushort)ns).U16((ushort)ar);

    public Wire Question(string name, ushort type = 1, ushort @class = 1) => Bytes(Name(name)).U16(type).U16(@class);

    public Wire Record(string owner, ushort type, uint ttl, byte[] data, ushort @class = 1) =>
        Bytes(Name(owner)).U16(type).U16(@class).U32(ttl).U16((ushort)data.Length).Bytes(data);

    public Wire Opt(ushort payload = 1232, bool dnssecOk = false, byte version = 0, byte[]? options = null) =>
        Bytes([0]).U16(41).U16(payload).Bytes([0, version, (byte)(dnssecOk ? 0x80 : 0), 0]).U16((ushort)(options?.Length ?? 0)).Bytes(options ?? []);

    public Wire U16(ushort value)
    {
        _bytes.Add((byte)(value >> 8));
        _bytes.Add((byte)value);
        return this;
    }

    public Wire U32(uint value) => U16((ushort)(value >> 16)).U16((ushort)value);

    public Wire Bytes(byte[] bytes)
    {
        _bytes.AddRange(bytes);
        return this;
    }

    public byte[] ToArray() => [.. _bytes];

    public static byte[] Query(string name, ushort type = 1, ushort id = 0x1234, bool edns = true, bool dnssecOk = false, ushort payload = 1232) =>
        new Wire().Header(id, 0x0100, 1, 0, 0, edns ? 1 : 0).Question(name, type).Bytes(edns ? new Wire().Opt(payload, dnssecOk).ToArray() : []).ToArray();

    public static byte[] Soa(string mname, string rname, uint minimum) =>
        new Wire().Bytes(Name(mname)).Bytes(Name(rname)).U32(1).U32(3600).U32(600).U32(86400).U32(minimum).ToArray();

    public static ushort ReadU16(byte[] m, int offset) => BinaryPrimitives.ReadUInt16BigEndian(m.AsSpan(offset));

    public static uint ReadU32(byte[] m, int offset) => BinaryPrimitives.ReadUInt32BigEndian(m.AsSpan(offset));
}
