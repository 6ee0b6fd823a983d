using System.Text;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests.Protocol;

/// <summary>
/// Name compression in <see cref="ResponseTemplateBuilder"/>, checked by an independent parser: every answer is read
/// back by <see cref="StrictDnsMessage"/> (a strict walk plus ARSoft.Tools.Net) and must hold exactly the records that
/// went in. The builder reuses one writer per thread, so each test builds its whole sequence on one thread, in order:
/// that is how a listener thread builds answers, and how the bug of issue 13 (stale bytes of the previous message
/// read as part of the name being written) showed itself.
/// </summary>
public class NameCompressionTests
{
    private const ushort Mb = 7;
    private const ushort Minfo = 14;
    private const ushort Rp = 17;
    private const ushort Afsdb = 18;
    private const ushort Px = 26;
    private const ushort Kx = 36;
    private const ushort Private = 65280;

    /// <summary>A record to build, with the RDATA as sent upstream and as the strict parser should read it back.</summary>
    private sealed record Input(DnsSection Section, string Owner, ushort Type, uint Ttl, byte[] Data, byte[] ExpectedData);

    public static TheoryData<string, string[]> Families() => new()
    {
        { "service named like its namespace", ["redis.svc.cluster.local", "redis.redis.svc.cluster.local", "redis.svc.cluster.local"] },
        { "repeated one-letter labels", ["v.example", "v.v.example", "v.v.v.example", "v.example"] },
        { "repeated labels", ["taq.example", "taq.taq.example", "taq.taq.taq.example"] },
        { "alternating labels", ["a.b.example", "a.b.a.b.example", "b.a.b.example", "a.b.a.b.a.b.example"] },
        { "equal-length labels", ["abc.example", "abc.def.example", "def.abc.example", "abc.abc.example", "def.def.def.example"] },
        { "case differences", ["Kafka.kafka.SVC.cluster.local", "kafka.KAFKA.svc.Cluster.Local", "KAFKA.svc.cluster.local"] },
        { "longer question first", ["x.x.x.x.example", "x.x.example", "x.example", "x.x.x.x.x.example"] },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Sequences_of_similar_names_compress_into_well_formed_answers(string family, string[] names)
    {
        foreach (string name in names)
        {
            Input[] records =
            [
                Record(DnsSection.Answer, name, DnsType.CNAME, 60, name.Split('.', 2)[1] + "." + name),
                Record(DnsSection.Answer, name.Split('.', 2)[1] + "." + name, DnsType.A, 60, Bytes(10, 0, 0, 1)),
            ];
            AssertRoundTrip(name, DnsType.A, records, family);
        }
    }

    [Fact]
    public void Redis_then_redis_redis_gives_a_well_formed_answer()
    {
        AssertRoundTrip("redis.svc.cluster.local", DnsType.A, [Record(DnsSection.Answer, "redis.svc.cluster.local", DnsType.A, 30, Bytes(10, 0, 0, 2))], "first");
        AssertRoundTrip("redis.redis.svc.cluster.local", DnsType.A, [Record(DnsSection.Answer, "redis.redis.svc.cluster.local", DnsType.A, 30, Bytes(10, 0, 0, 1))], "second");
    }

    [Fact]
    public void Random_sequences_through_one_reused_writer_parse_to_the_records_that_went_in()
    {
        var random = new Random(20261202);
        for (int message = 0; message < 3000; message++)
        {
            string question = RandomName(random);
            ushort questionType = random.Next(2) == 0 ? DnsType.A : DnsType.MX;
            int count = random.Next(0, 12);
            var records = new List<Input>();
            for (int i = 0; i < count; i++)
            {
                DnsSection section = (DnsSection)Math.Min(2, i * 3 / Math.Max(count, 1));
                records.Add(RandomRecord(random, section, random.Next(3) == 0 ? question : RandomName(random)));
            }

            AssertRoundTrip(question, questionType, records, $"message {message}");
        }
    }

    [Fact]
    public void Messages_longer_than_the_pointer_range_stay_well_formed()
    {
        var random = new Random(42);
        for (int message = 0; message < 20; message++)
        {
            string question = RandomName(random);
            var records = new List<Input>();
            for (int i = 0; i < 900; i++)
            {
                records.Add(RandomRecord(random, DnsSection.Answer, RandomName(random)));
            }

            records.Add(Record(DnsSection.Answer, "tail." + question, DnsType.TXT, 60, Bytes([.. Enumerable.Repeat((byte)'x', 200).Prepend((byte)200)])));
            records.Add(Record(DnsSection.Answer, question, DnsType.CNAME, 60, "tail." + question));
            byte[] wire = AssertRoundTrip(question, DnsType.A, records, $"long message {message}");
            Assert.True(wire.Length > 0x3FFF, $"message {message} is only {wire.Length} bytes");
        }
    }

    private static byte[] AssertRoundTrip(string question, ushort questionType, IReadOnlyList<Input> records, string because)
    {
        List<DnsRecord> input = [.. records.Select(r => new DnsRecord(r.Section, Name(r.Owner), r.Type, DnsClass.IN, r.Ttl, r.Data))];
        ResponseTemplate? template = ResponseTemplateBuilder.Build(Name(question), questionType, DnsClass.IN, DnsRcode.NoError, false, input, uint.MaxValue);
        Assert.NotNull(template);

        byte[] query = new Wire().Header(0x4242, 0x0100, 1, 0, 0, 0).Question(question, questionType).ToArray();
        Assert.Equal(QueryVerdict.Resolve, QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info));
        byte[] buffer = new byte[DnsLimits.MaxMessageLength];
        byte[] wire = buffer[..template.Write(query, info, 0, DnsLimits.MaxMessageLength, buffer)];

        (string parsedQuestion, ushort parsedType, IReadOnlyList<StrictRecord> parsed) = StrictDnsMessage.Parse(wire);
        Assert.Equal(StrictDnsMessage.Dotted(question), parsedQuestion);
        Assert.Equal(questionType, parsedType);
        string[] expected = [.. records.Select(r => new StrictRecord((int)r.Section, StrictDnsMessage.Dotted(r.Owner), r.Type, DnsClass.IN, r.Ttl, r.ExpectedData).ToString())];
        Assert.True(expected.SequenceEqual(parsed.Select(r => r.ToString())),
            $"{because}: expected\n{string.Join('\n', expected)}\nparsed\n{string.Join('\n', parsed)}");
        return wire;
    }

    private static readonly string[] Labels = ["a", "b", "v", "ab", "cd", "taq", "Taq", "redis", "REDIS", "svc", "x1", "kafka"];
    private static readonly string[] Suffixes = ["example", "cluster.local", "svc.cluster.local", "b.example", "a.b.example"];

    private static string RandomName(Random random)
    {
        var name = new StringBuilder();
        int labels = random.Next(0, 5);
        for (int i = 0; i < labels; i++)
        {
            name.Append(Labels[random.Next(Labels.Length)]).Append('.');
        }

        return name.Append(Suffixes[random.Next(Suffixes.Length)]).ToString();
    }

    private static Input RandomRecord(Random random, DnsSection section, string owner)
    {
        uint ttl = (uint)random.Next(0, 86400);
        string n1 = RandomName(random);
        string n2 = RandomName(random);
        byte[] u16 = [(byte)random.Next(256), (byte)random.Next(256)];
        byte[] soaNumbers = [.. Enumerable.Range(0, 20).Select(_ => (byte)random.Next(256))];
        return random.Next(17) switch
        {
            0 => Record(section, owner, DnsType.A, ttl, Bytes(10, 0, (byte)random.Next(256), 1)),
            1 => Record(section, owner, DnsType.AAAA, ttl, Bytes([.. Enumerable.Range(0, 16).Select(_ => (byte)random.Next(256))])),
            2 => Record(section, owner, DnsType.CNAME, ttl, n1),
            3 => Record(section, owner, DnsType.NS, ttl, n1),
            4 => Record(section, owner, DnsType.PTR, ttl, n1),
            5 => Record(section, owner, DnsType.DNAME, ttl, n1),
            6 => Record(section, owner, DnsType.MX, ttl, u16, n1),
            7 => Record(section, owner, DnsType.SOA, ttl, n1, n2, soaNumbers),
            8 => Record(section, owner, DnsType.SRV, ttl, u16, u16, u16, n1),
            9 => Record(section, owner, Rp, ttl, n1, n2),
            10 => Record(section, owner, Afsdb, ttl, u16, n1),
            11 => Record(section, owner, Minfo, ttl, n1, n2),
            12 => Record(section, owner, Mb, ttl, n1),
            13 => Record(section, owner, Px, ttl, u16, n1, n2),
            14 => Record(section, owner, Kx, ttl, u16, n1),
            15 => Record(section, owner, DnsType.TXT, ttl, Bytes([.. Encoding.ASCII.GetBytes(n1).Prepend((byte)n1.Length)])),
            _ => Record(section, owner, Private, ttl, Name(n1)), // an unknown type: its RDATA is opaque, never compressed
        };
    }

    /// <summary>
    /// A record whose RDATA is made of <paramref name="parts"/>: a string is a domain name, bytes are opaque. The
    /// strict parser returns names in lower case, so the expected RDATA has them lowered.
    /// </summary>
    private static Input Record(DnsSection section, string owner, ushort type, uint ttl, params object[] parts)
    {
        byte[] data = [.. parts.SelectMany(p => p is string name ? Name(name) : (byte[])p)];
        byte[] expected = [.. parts.SelectMany(p => p is string name ? Name(name.ToLowerInvariant()) : (byte[])p)];
        return new Input(section, owner, type, ttl, data, expected);
    }

    private static byte[] Name(string dotted) => Wire.Name(dotted);

    private static byte[] Bytes(params byte[] bytes) => bytes;
}
