using System.Buffers.Binary;
using System.Text;
using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Benchmarks;

/// <summary>Wire messages for the benchmarks: a query with EDNS and an upstream answer of N A records.</summary>
internal static class Messages
{
    public static byte[] Name(string dotted)
    {
        var bytes = new List<byte>();
        foreach (string label in dotted.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }

    public static byte[] Query(string name, ushort id = 0x1234)
    {
        byte[] qname = Name(name);
        var message = new byte[12 + qname.Length + 4 + 11];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(2), 0x0100);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(10), 1);
        qname.CopyTo(message, 12);
        int position = 12 + qname.Length;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(position), DnsType.A);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(position + 2), DnsClass.IN);
        EdnsWriter.WriteOpt(message.AsSpan(position + 4), dnssecOk: false);
        return message;
    }

    public static byte[] Answer(string name, int records)
    {
        byte[] qname = Name(name);
        var message = new List<byte>();
        message.AddRange([0x12, 0x34, 0x81, 0x80, 0, 1, 0, (byte)records, 0, 0, 0, 0]);
        message.AddRange(qname);
        message.AddRange([0, 1, 0, 1]);
        for (int i = 0; i < records; i++)
        {
            message.AddRange([0xC0, 12, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 10, 0, 0, (byte)i]);
        }

        return [.. message];
    }

    public static ResponseTemplate Template(string name, int records)
    {
        if (!ResponseReader.TryRead(Answer(name, records), out DnsResponseMessage response))
        {
            throw new InvalidOperationException("bad benchmark answer");
        }

        return ResponseClassifier.Classify(response, Name(name), TtlPolicy.Default)!.Template;
    }
}
