using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

public class ErrorResponseTests
{
    private static byte[] Answer(byte[] query, out QueryVerdict verdict)
    {
        verdict = QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info);
        byte[] response = new byte[ErrorResponse.MaxLength];
        int length = ErrorResponse.Write(query, info, ErrorResponse.RcodeFor(verdict), response);
        return response[..length];
    }

    [Fact]
    public void Badvers_carries_extended_rcode_in_opt_and_echoes_do() // ED-04, ED-07
    {
        byte[] query = new Wire().Header(0xBEEF, 0x0100, 1, 0, 0, 1).Question("a.example").Opt(dnssecOk: true, version: 1).ToArray();
        byte[] response = Answer(query, out QueryVerdict verdict);

        Assert.Equal(QueryVerdict.BadVers, verdict);
        Assert.Equal(0xBEEF, Wire.ReadU16(response, 0));
        Assert.Equal(0x8180, Wire.ReadU16(response, 2)); // QR RD RA, header rcode 0
        Assert.Equal(1, Wire.ReadU16(response, 10));
        int opt = query.Length - 11;
        Assert.Equal(41, Wire.ReadU16(response, opt + 1));
        Assert.Equal(1, response[opt + 5]); // extended rcode 16 >> 4
        Assert.Equal(0, response[opt + 6]); // version 0
        Assert.Equal(0x80, response[opt + 7]); // DO echoed
    }

    [Fact]
    public void Formerr_without_question_has_empty_sections()
    {
        byte[] query = new Wire().Header(7, 0x0100, 2, 0, 0, 0).ToArray();
        byte[] response = Answer(query, out _);
        Assert.Equal(new byte[] { 0, 7, 0x81, 0x81, 0, 0, 0, 0, 0, 0, 0, 0 }, response);
    }

    [Fact]
    public void Notimp_keeps_the_opcode_and_clears_z()
    {
        byte[] query = new Wire().Header(9, (ushort)((15 << 11) | 0x0140), 1, 0, 0, 0).Question("a.example").ToArray();
        byte[] response = Answer(query, out _);
        Assert.Equal((ushort)(0x8000 | (15 << 11) | 0x0100 | 0x0080 | 4), Wire.ReadU16(response, 2));
    }

    [Fact]
    public void Refused_echoes_the_question_and_no_opt_without_edns() // MQ-18, ED-12
    {
        byte[] question = new Wire().Question("version.bind", 16, 3).ToArray();
        byte[] query = new Wire().Header(3, 0x0100, 1, 0, 0, 0).Bytes(question).ToArray();
        byte[] response = Answer(query, out _);
        Assert.Equal(5, response[3] & 0xF);
        Assert.Equal(question, response[12..]);
        Assert.Equal(0, Wire.ReadU16(response, 10));
    }
}
