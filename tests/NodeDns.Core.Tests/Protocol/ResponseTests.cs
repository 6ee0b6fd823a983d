using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

public class ResponseTests
{
    private static readonly byte[] Ip = [192, 0, 2, 1];

    private static DnsResponseMessage Read(byte[] message)
    {
        Assert.True(ResponseReader.TryRead(message, out DnsResponseMessage response));
        return response;
    }

    private static (byte[] Response, QueryInfo Info) Serve(ResponseTemplate template, byte[] query, uint elapsed, int? limit = null)
    {
        Assert.Equal(QueryVerdict.Resolve, QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info));
        byte[] buffer = new byte[DnsLimits.MaxMessageLength];
        int length = template.Write(query, info, elapsed, limit ?? info.UdpResponseLimit, buffer);
        return (buffer[..length], info);
    }

    [Fact]
    public void Reads_compressed_names_in_owner_and_rdata()
    {
        // www.example.test CNAME -> pointer to "example.test" in the question plus label "cdn"
        byte[] message = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("www.example.test")
            .Bytes([0xC0, 12]).U16(5).U16(1).U32(60).U16(6).Bytes([3, (byte)'c', (byte)'d', (byte)'n', 0xC0, 16]).ToArray();
        DnsRecord cname = Assert.Single(Read(message).ToRecords());
        Assert.Equal(Wire.Name("www.example.test"), cname.Owner);
        Assert.Equal(Wire.Name("cdn.example.test"), cname.Data);
    }

    [Fact]
    public void A_message_given_back_and_read_into_again_holds_only_the_new_reply()
    {
        // More rounds than the pool keeps messages, so the small replies are read into messages that held big ones.
        for (int round = 0; round < 300; round++)
        {
            var big = new Wire().Header(1, 0x8180, 1, 5, 0, 0).Question("many.records.example");
            for (int i = 0; i < 5; i++)
            {
                big.Record("many.records.example", 1, 60, [198, 51, 100, (byte)i]);
            }

            Read(big.ToArray()).Return();
            byte[] small = new Wire().Header(2, 0x8183, 1, 0, 1, 0).Question("b.example")
                .Record("example", 6, 30, Wire.Soa("ns.example", "host.example", 30)).ToArray();
            DnsResponseMessage read = Read(small);
            Assert.Equal(Wire.Name("b.example"), read.QuestionName.ToArray());
            Assert.Equal(2, read.Id);
            Assert.Equal(DnsRcode.NxDomain, read.Rcode);
            DnsRecord soa = Assert.Single(read.ToRecords());
            Assert.Equal((DnsSection.Authority, (ushort)6), (soa.Section, soa.Type));
            Assert.Equal(Wire.Name("example"), soa.Owner);
            Assert.Equal(Wire.Soa("ns.example", "host.example", 30), soa.Data);
            read.Return();
        }
    }

    public static TheoryData<string, byte[]> Rejected()
    {
        byte[] question = new Wire().Question("a.example").ToArray();
        return new TheoryData<string, byte[]>
        {
            { "UR-01 header only", new Wire().Header(1, 0x8180, 0, 0, 0, 0).ToArray() },
            { "UR-02 QR=0", new Wire().Header(1, 0x0100, 1, 0, 0, 0).Bytes(question).ToArray() },
            { "UR-03 RDLENGTH past the end", new Wire().Header(1, 0x8180, 1, 1, 0, 0).Bytes(question).Bytes(Wire.Name("a.example")).U16(1).U16(1).U32(5).U16(4).Bytes([1, 2]).ToArray() },
            { "UR-05 compression loop", new Wire().Header(1, 0x8180, 1, 1, 0, 0).Bytes(question).Bytes([0xC0, 29]).U16(1).U16(1).U32(5).U16(4).Bytes(Ip).ToArray() },
            { "UR-08 A with 5 bytes", new Wire().Header(1, 0x8180, 1, 1, 0, 0).Bytes(question).Record("a.example", 1, 5, [1, 2, 3, 4, 5]).ToArray() },
            { "UR-08 AAAA with 8 bytes", new Wire().Header(1, 0x8180, 1, 1, 0, 0).Bytes(question).Record("a.example", 28, 5, new byte[8]).ToArray() },
            { "UR-09 two OPT", new Wire().Header(1, 0x8180, 1, 0, 0, 2).Bytes(question).Opt().Opt().ToArray() },
            { "UR-09 OPT in answer", new Wire().Header(1, 0x8180, 1, 1, 0, 0).Bytes(question).Opt().ToArray() },
            { "CNAME RDATA longer than its name", new Wire().Header(1, 0x8180, 1, 1, 0, 0).Bytes(question).Record("a.example", 5, 5, [.. Wire.Name("b.example"), 9]).ToArray() },
        };
    }

    [Theory]
    [MemberData(nameof(Rejected))]
    public void Malformed_responses_are_rejected(string name, byte[] message) =>
        Assert.False(ResponseReader.TryRead(message, out _), name);

    [Fact]
    public void Ttl_with_msb_set_counts_as_zero_and_is_not_cached() // CP-09
    {
        byte[] message = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("a.example").Record("a.example", 1, 0x80000000, Ip).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(message), Wire.Name("a.example"), TtlPolicy.Default)!;
        Assert.Equal(ResponseKind.Uncacheable, classified.Kind);
    }

    [Fact]
    public void Positive_ttl_is_the_smallest_clamped_to_the_policy()
    {
        byte[] message = new Wire().Header(1, 0x8180, 1, 2, 0, 0).Question("a.example")
            .Record("a.example", 5, 900, Wire.Name("b.example")).Record("b.example", 1, 7200, Ip).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(message), Wire.Name("a.example"), new TtlPolicy { MaxTtl = 30 })!;
        Assert.Equal(ResponseKind.Positive, classified.Kind);
        Assert.Equal(30u, classified.Ttl);

        ClassifiedResponse floored = ResponseClassifier.Classify(Read(message), Wire.Name("a.example"), new TtlPolicy { MinTtl = 1000, MaxTtl = 3600 })!;
        Assert.Equal(1000u, floored.Ttl);
    }

    [Fact]
    public void Negative_ttl_is_min_of_soa_ttl_and_minimum() // RFC 2308 §5, FL-06
    {
        byte[] message = new Wire().Header(1, 0x8183, 1, 0, 1, 0).Question("nope.example")
            .Record("example", 6, 30, Wire.Soa("ns.example", "host.example", 10)).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(message), Wire.Name("nope.example"), TtlPolicy.Default)!;
        Assert.Equal(ResponseKind.Negative, classified.Kind);
        Assert.Equal(10u, classified.Ttl);

        (byte[] served, _) = Serve(classified.Template, Wire.Query("nope.example"), 0);
        Assert.Equal(3, served[3] & 0xF);
        Assert.Equal(10u, Assert.Single(Read(served).ToRecords()).Ttl); // the client sees the negative TTL on the SOA
    }

    [Fact]
    public void Nxdomain_without_soa_and_server_failures_are_not_cached()
    {
        byte[] nx = new Wire().Header(1, 0x8183, 1, 0, 0, 0).Question("a.example").ToArray();
        Assert.Equal(ResponseKind.Uncacheable, ResponseClassifier.Classify(Read(nx), Wire.Name("a.example"), TtlPolicy.Default)!.Kind);
        byte[] servfail = new Wire().Header(1, 0x8182, 1, 0, 0, 0).Question("a.example").ToArray();
        Assert.Equal(ResponseKind.Failure, ResponseClassifier.Classify(Read(servfail), Wire.Name("a.example"), TtlPolicy.Default)!.Kind);
    }

    [Fact]
    public void Records_off_the_cname_chain_are_dropped() // CP-06, CP-07
    {
        byte[] message = new Wire().Header(1, 0x8180, 1, 3, 1, 1).Question("cname-x.example")
            .Record("tgt.example", 1, 60, Ip) // out of order, still on the chain
            .Record("cname-x.example", 5, 60, Wire.Name("tgt.example"))
            .Record("victim.example", 1, 60, [6, 6, 6, 6])
            .Record("victim.example", 2, 60, Wire.Name("ns.attacker"))
            .Record("ns.attacker", 1, 60, [6, 6, 6, 6]).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(message), Wire.Name("cname-x.example"), TtlPolicy.Default)!;

        (byte[] served, _) = Serve(classified.Template, Wire.Query("cname-x.example"), 0);
        DnsResponseMessage parsed = Read(served);
        Assert.Equal(2, parsed.ToRecords().Count(r => r.Section == DnsSection.Answer));
        Assert.DoesNotContain(parsed.ToRecords(), r => r.Section != DnsSection.Additional && r.Owner.AsSpan().SequenceEqual(Wire.Name("victim.example")));
    }

    [Fact]
    public void Serving_patches_id_question_case_ttls_and_opt()
    {
        byte[] upstream = new Wire().Header(1, 0x81A0, 1, 1, 0, 0).Question("www.example").Record("www.example", 1, 300, Ip).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(upstream), Wire.Name("www.example"), TtlPolicy.Default)!;

        byte[] query = Wire.Query("WwW.ExAmPlE", id: 0xABCD, dnssecOk: true);
        (byte[] served, _) = Serve(classified.Template, query, elapsed: 100);

        Assert.Equal(0xABCD, Wire.ReadU16(served, 0));
        Assert.Equal(0x81A0, Wire.ReadU16(served, 2)); // QR RD RA AD (DO client), NOERROR
        Assert.Equal(query[12..(12 + 13 + 4)], served[12..(12 + 13 + 4)]); // question bytes exactly as asked (0x20)
        int ttlOffset = 12 + 13 + 4 + 2 + 4; // owner compressed to a pointer
        Assert.Equal(200u, Wire.ReadU32(served, ttlOffset));
        Assert.Equal(1, Wire.ReadU16(served, 10)); // our OPT
        Assert.Equal(0x80, served[^4]); // DO echoed

        (byte[] plain, _) = Serve(classified.Template, Wire.Query("www.example", edns: false), elapsed: 400);
        Assert.Equal(0x8180, Wire.ReadU16(plain, 2)); // AD hidden from a client that set neither DO nor AD
        Assert.Equal(0, Wire.ReadU16(plain, 10)); // ED-12: no OPT when the query had none
        Assert.Equal(0u, Wire.ReadU32(plain, ttlOffset)); // never negative
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 1232)]
    public void Too_big_for_udp_sends_whole_records_with_tc(bool edns, ushort payload) // ED-09..11, K8-05
    {
        var wire = new Wire().Header(1, 0x8180, 1, 60, 0, 0).Question("big.example");
        for (int i = 0; i < 60; i++)
        {
            wire.Record("big.example", 16, 60, [30, .. new byte[30]]);
        }

        ClassifiedResponse classified = ResponseClassifier.Classify(Read(wire.ToArray()), Wire.Name("big.example"), TtlPolicy.Default)!;
        byte[] query = Wire.Query("big.example", 16, edns: edns, payload: payload);
        (byte[] served, QueryInfo info) = Serve(classified.Template, query, 0);

        Assert.True(served.Length <= info.UdpResponseLimit);
        Assert.Equal(DnsHeader.TcBit, Wire.ReadU16(served, 2) & DnsHeader.TcBit);
        int answers = Wire.ReadU16(served, 6);
        Assert.InRange(answers, 1, 59);
        byte[] untruncated = [.. served];
        untruncated[2] &= 0xFD; // the reader skips the records of truncated messages; check they are whole
        Assert.Equal(answers, Read(untruncated).ToRecords().Count);

        (byte[] overTcp, _) = Serve(classified.Template, query, 0, limit: DnsLimits.MaxMessageLength);
        Assert.Equal(0, Wire.ReadU16(overTcp, 2) & DnsHeader.TcBit);
        Assert.Equal(60, Wire.ReadU16(overTcp, 6));
    }

    [Fact]
    public void Answer_that_exactly_fits_is_not_truncated() // ED-13
    {
        byte[] upstream = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("x.example").Record("x.example", 16, 60, new byte[400]).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(upstream), Wire.Name("x.example"), TtlPolicy.Default)!;
        byte[] query = Wire.Query("x.example", 16, edns: false);
        int exact = Serve(classified.Template, query, 0, DnsLimits.MaxMessageLength).Response.Length;

        Assert.Equal(0, Wire.ReadU16(Serve(classified.Template, query, 0, exact).Response, 2) & DnsHeader.TcBit);
        Assert.NotEqual(0, Wire.ReadU16(Serve(classified.Template, query, 0, exact - 1).Response, 2) & DnsHeader.TcBit);
    }

    [Fact]
    public void Unknown_types_pass_through_byte_exact() // UR-10
    {
        byte[] data = [0xC0, 0x0C, 1, 2, 3];
        byte[] upstream = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question("u.example", 65280).Record("u.example", 65280, 60, data).ToArray();
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(upstream), Wire.Name("u.example"), TtlPolicy.Default)!;
        (byte[] served, _) = Serve(classified.Template, Wire.Query("u.example", 65280, edns: false), 0);
        Assert.Equal(data, served[^data.Length..]);
    }

    [Fact]
    public void Huge_responses_and_long_cname_chains_are_bounded() // UR-07
    {
        var many = new Wire().Header(1, 0x8180, 1, 1001, 0, 0).Question("a.example");
        for (int i = 0; i < 1001; i++)
        {
            many.Record("a.example", 1, 60, Ip);
        }

        Assert.False(ResponseReader.TryRead(many.ToArray(), out _));

        var chain = new Wire().Header(1, 0x8180, 1, 30, 0, 0).Question("c0.example");
        for (int i = 0; i < 30; i++)
        {
            chain.Record($"c{i}.example", 5, 60, Wire.Name($"c{i + 1}.example"));
        }

        ClassifiedResponse classified = ResponseClassifier.Classify(Read(chain.ToArray()), Wire.Name("c0.example"), TtlPolicy.Default)!;
        (byte[] served, _) = Serve(classified.Template, Wire.Query("c0.example"), 0, DnsLimits.MaxMessageLength);
        Assert.Equal(ResponseScrubber.MaxChainLength, Wire.ReadU16(served, 6));
    }

    [Fact]
    public void Signatures_beyond_the_bound_per_rrset_are_dropped()
    {
        var message = new Wire().Header(1, 0x8180, 1, 13, 0, 0).Question("a.example").Record("a.example", 1, 60, Ip);
        for (int i = 0; i < 10; i++)
        {
            message.Record("a.example", 46, 60, [0, 1, 8, 2, .. new byte[20], (byte)i]); // RRSIG covering A
        }

        message.Record("a.example", 46, 60, [0, 28, 8, 2, .. new byte[21]]); // covering AAAA: another RRset
        message.Record("a.example", 46, 60, [0, 28, 8, 2, .. new byte[21]]);
        ClassifiedResponse classified = ResponseClassifier.Classify(Read(message.ToArray()), Wire.Name("a.example"), TtlPolicy.Default)!;

        (byte[] served, _) = Serve(classified.Template, Wire.Query("a.example"), 0, DnsLimits.MaxMessageLength);
        List<DnsRecord> records = [.. Read(served).ToRecords()];
        Assert.Single(records, r => r.Type == 1);
        Assert.Equal(ResponseScrubber.MaxSignaturesPerRrset, records.Count(r => r.Type == 46 && r.Data[1] == 1));
        Assert.Equal(2, records.Count(r => r.Type == 46 && r.Data[1] == 28));
    }
}
