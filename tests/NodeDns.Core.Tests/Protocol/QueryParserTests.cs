using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

public class QueryParserTests
{
    private static QueryVerdict Parse(byte[] message, out QueryInfo info, out byte[] key)
    {
        byte[] buffer = new byte[QueryParser.MaxKeyLength];
        QueryVerdict verdict = QueryParser.Parse(message, buffer, out info);
        key = buffer[..info.KeyLength];
        return verdict;
    }

    private static byte[] WithHeader(ushort flags, int qd, byte[] rest, int an = 0, int ns = 0, int ar = 0) =>
        new Wire().Header(0x4242, flags, qd, an, ns, ar).Bytes(rest).ToArray();

    [Fact]
    public void Valid_query_yields_lower_case_key_with_type_class_and_flags()
    {
        byte[] query = Wire.Query("WwW.Example.COM", type: 28, dnssecOk: true);
        query[3] |= 0x10; // CD

        Assert.Equal(QueryVerdict.Resolve, Parse(query, out QueryInfo info, out byte[] key));

        byte[] expected = [.. Wire.Name("www.example.com"), 0, 28, 0, 1, 3];
        Assert.Equal(expected, key);
        Assert.Equal(0x1234, info.Id);
        Assert.True(info.HasOpt);
        Assert.True(info.DnssecOk);
        Assert.True(info.CheckingDisabled);
        Assert.Equal(12 + 17 + 4, info.QuestionEnd);
    }

    [Fact]
    public void Key_differs_by_do_and_cd_bits()
    {
        Parse(Wire.Query("a.example", dnssecOk: false), out _, out byte[] plain);
        Parse(Wire.Query("a.example", dnssecOk: true), out _, out byte[] withDo);
        byte[] cdQuery = Wire.Query("a.example");
        cdQuery[3] |= 0x10;
        Parse(cdQuery, out _, out byte[] withCd);

        Assert.NotEqual(plain, withDo);
        Assert.NotEqual(plain, withCd);
        Assert.NotEqual(withDo, withCd);
    }

    [Theory]
    [InlineData(0)] // MQ-01
    [InlineData(11)] // MQ-02
    public void Shorter_than_a_header_is_dropped(int length) =>
        Assert.Equal(QueryVerdict.Drop, Parse(new byte[length], out _, out _));

    [Fact]
    public void A_response_is_dropped() => // MQ-13
        Assert.Equal(QueryVerdict.Drop, Parse(WithHeader(0x8100, 1, new Wire().Question("a.example").ToArray()), out _, out _));

    public static TheoryData<string, byte[]> FormErrCases()
    {
        byte[] question = new Wire().Question("a.example").ToArray();
        byte[] label64 = [64, .. new byte[64], 0, 0, 1, 0, 1];
        var longName = new List<byte>();
        for (int i = 0; i < 10; i++)
        {
            longName.Add(31);
            longName.AddRange(new byte[31]);
        }

        longName.AddRange(new byte[] { 0, 0, 1, 0, 1 });
        return new TheoryData<string, byte[]>
        {
            { "MQ-03 qdcount 0", WithHeader(0x0100, 0, []) },
            { "MQ-04 qdcount 1 but no question", WithHeader(0x0100, 1, []) },
            { "MQ-05 qdcount 2", WithHeader(0x0100, 2, [.. question, .. question]) },
            { "MQ-06 label of 64", WithHeader(0x0100, 1, label64) },
            { "MQ-07 320-octet name", WithHeader(0x0100, 1, [.. longName]) },
            { "MQ-08 pointer to itself", WithHeader(0x0100, 1, [0xC0, 0x0C, 0, 1, 0, 1]) },
            { "MQ-09 forward pointer", WithHeader(0x0100, 1, [1, (byte)'a', 0xC0, 0x20, 0, 1, 0, 1, 1, (byte)'b', 0]) },
            { "MQ-10 pointer past the end", WithHeader(0x0100, 1, [0xC0, 0xFF, 0, 1, 0, 1]) },
            { "MQ-11 label past the end", WithHeader(0x0100, 1, [9, (byte)'a', (byte)'b']) },
            { "no room for type and class", WithHeader(0x0100, 1, [1, (byte)'a', 0, 0]) },
            { "ED-01 two OPT records", WithHeader(0x0100, 1, [.. question, .. new Wire().Opt().ToArray(), .. new Wire().Opt().ToArray()], ar: 2) },
            { "ED-02 OPT in answer", WithHeader(0x0100, 1, [.. question, .. new Wire().Opt().ToArray()], an: 1) },
            { "ED-03 OPT owner not root", WithHeader(0x0100, 1, [.. question, .. new Wire().Record("x", 41, 0, []).ToArray()], ar: 1) },
            { "ED-08 OPT RDLENGTH past the end", WithHeader(0x0100, 1, [.. question, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 20, 0, 1], ar: 1) },
            { "option longer than the OPT", WithHeader(0x0100, 1, [.. question, .. new Wire().Opt(options: [0, 10, 0, 9, 1]).ToArray()], ar: 1) },
            { "qtype OPT", WithHeader(0x0100, 1, new Wire().Question("a.example", type: 41).ToArray()) },
        };
    }

    [Theory]
    [MemberData(nameof(FormErrCases))]
    public void Malformed_queries_get_formerr(string name, byte[] message) =>
        Assert.True(QueryVerdict.FormErr == Parse(message, out _, out _), name);

    [Theory]
    [InlineData(15)] // MQ-14
    [InlineData(4)] // NOTIFY, MQ-15
    [InlineData(5)] // UPDATE, MQ-15
    public void Other_opcodes_get_notimp(int opcode) =>
        Assert.Equal(QueryVerdict.NotImp, Parse(WithHeader((ushort)(opcode << 11), 1, new Wire().Question("a.example").ToArray()), out _, out _));

    [Theory]
    [InlineData(252, 1)] // MQ-20 AXFR
    [InlineData(251, 1)] // IXFR
    [InlineData(16, 3)] // MQ-17 version.bind CH TXT
    [InlineData(1, 254)] // MQ-18 class NONE
    [InlineData(1, 255)] // class ANY
    public void Transfers_and_other_classes_are_refused(ushort type, ushort @class) =>
        Assert.Equal(QueryVerdict.Refused, Parse(WithHeader(0x0100, 1, new Wire().Question("version.bind", type, @class).ToArray()), out _, out _));

    [Fact]
    public void Edns_version_1_gets_badvers() => // ED-04
        Assert.Equal(QueryVerdict.BadVers, Parse(WithHeader(0x0100, 1,
            [.. new Wire().Question("a.example").ToArray(), .. new Wire().Opt(version: 1).ToArray()], ar: 1), out _, out _));

    [Fact]
    public void Trailing_garbage_unknown_options_and_z_bit_are_tolerated() // MQ-12, ED-05, MQ-22
    {
        byte[] message = WithHeader(0x0140, 1,
            [.. new Wire().Question("a.example").ToArray(), .. new Wire().Opt(options: [0xFD, 0xE9, 0, 2, 7, 7]).ToArray(), 0xDE, 0xAD], ar: 1);
        Assert.Equal(QueryVerdict.Resolve, Parse(message, out _, out _));
    }

    [Theory]
    [InlineData(false, 0, 512)] // no EDNS: classic limit
    [InlineData(true, 100, 512)] // ED-09: below 512 counts as 512
    [InlineData(true, 1232, 1232)]
    [InlineData(true, 4096, 1232)] // ED-10: never above our own cap
    public void Udp_limit_follows_the_client_within_our_cap(bool edns, ushort payload, int expected)
    {
        Parse(Wire.Query("a.example", edns: edns, payload: payload), out QueryInfo info, out _);
        Assert.Equal(expected, info.UdpResponseLimit);
    }

    [Fact]
    public void Non_ascii_label_bytes_are_kept_and_only_ascii_letters_fold()
    {
        byte[] query = new Wire().Header(1, 0x0100, 1, 0, 0, 0).Bytes([3, 0xC9, (byte)'A', 0x7F, 0]).U16(1).U16(1).ToArray();
        Assert.Equal(QueryVerdict.Resolve, Parse(query, out _, out byte[] key));
        Assert.Equal(new byte[] { 3, 0xC9, (byte)'a', 0x7F, 0 }, key[..5]);
    }
}
