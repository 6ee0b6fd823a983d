using System.Buffers.Binary;

namespace NodeDns.Protocol;

/// <summary>Writes our own OPT record: root owner, our payload size, version 0, DO echoed, no options.</summary>
public static class EdnsWriter
{
    public static int WriteOpt(Span<byte> destination, bool dnssecOk, int extendedRcode = 0)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[1..], DnsType.OPT);
        BinaryPrimitives.WriteUInt16BigEndian(destination[3..], DnsLimits.EdnsUdpPayload);
        destination[5] = (byte)(extendedRcode >> 4);
        destination[6] = 0; // version
        destination[7] = dnssecOk ? (byte)0x80 : (byte)0;
        destination[8] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[9..], 0);
        return DnsLimits.EmptyOptRecordLength;
    }
}
