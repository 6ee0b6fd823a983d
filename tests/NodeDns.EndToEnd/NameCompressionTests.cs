using System.Net;
using DnsClient;
using DnsClient.Protocol;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// Issue 13 end to end: the published binary in front of NSD answers names that stress name compression, asked one
/// after another, with one UDP socket (one listener thread, so one reused encoder) and with the default sockets.
/// Every answer passes through the strict tap (<see cref="StrictAnswerTap"/>): one malformed answer fails the test.
/// </summary>
public sealed class NameCompressionTests(NsdUpstream nsd) : IClassFixture<NsdUpstream>
{
    [Fact]
    public async Task Redis_svc_then_redis_redis_svc_parses_in_dig_and_answers_the_address()
    {
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", nsd.EndPoint.ToString(), "--udp-sockets", "1");

        string first = await Dig.RunAsync(daemon.EndPoint, "redis.svc.cluster.local", "A");
        string second = await Dig.RunAsync(daemon.EndPoint, "redis.redis.svc.cluster.local", "A");
        string cached = await Dig.RunAsync(daemon.EndPoint, "redis.redis.svc.cluster.local", "A");

        Assert.Contains("status: NOERROR", first, StringComparison.Ordinal); // an empty non-terminal: NODATA
        foreach (string answer in new[] { first, second, cached })
        {
            Assert.DoesNotContain("malformed", answer, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("bad packet", answer, StringComparison.OrdinalIgnoreCase);
            Assert.Contains(";; Got answer:", answer, StringComparison.Ordinal);
        }

        foreach (string answer in new[] { second, cached })
        {
            Assert.Contains("status: NOERROR", answer, StringComparison.Ordinal);
            Assert.Matches(@"redis\.redis\.svc\.cluster\.local\.\s+\d+\s+IN\s+A\s+10\.0\.0\.1", answer);
        }
    }

    [Theory]
    [InlineData("1")]
    [InlineData(null)]
    public async Task Hundreds_of_compression_stressing_names_get_well_formed_answers(string? udpSockets)
    {
        string[] args = udpSockets is null ? ["--upstream", nsd.EndPoint.ToString()] : ["--upstream", nsd.EndPoint.ToString(), "--udp-sockets", udpSockets];
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync(args);
        LookupClient client = daemon.Client();
        IReadOnlyList<CompressionZone.Question> questions = CompressionZone.Questions();
        Assert.True(questions.Count >= 300, $"only {questions.Count} questions");

        foreach (string pass in new[] { "miss", "hit" })
        {
            foreach (CompressionZone.Question question in questions)
            {
                IDnsQueryResponse response = await client.QueryAsync(question.Name, question.Type);
                string because = $"{pass}: {question.Name} {question.Type}";
                Assert.False(response.HasError && response.Header.ResponseCode != DnsHeaderResponseCode.NotExistentDomain, $"{because}: {response.ErrorMessage}");
                if (question.Address is not null)
                {
                    Assert.True(response.Answers.ARecords().Any(a => a.Address.Equals(IPAddress.Parse(question.Address))), because);
                }
                else if (question.Type == QueryType.MX)
                {
                    Assert.Equal(2, response.Answers.MxRecords().Count());
                }
                else if (question.Type == QueryType.AAAA)
                {
                    Assert.Single(response.Answers.AaaaRecords());
                }
                else if (question.Type == QueryType.SRV)
                {
                    Assert.Single(response.Answers.SrvRecords());
                }
                else if (question.Type == QueryType.A)
                {
                    Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, response.Header.ResponseCode);
                    Assert.Single(response.Authorities.SoaRecords());
                }
            }
        }

        if (udpSockets == "1")
        {
            // One listener thread: every miss was sent, answered and relayed on it (issue 15: no silent thread hop).
            Assert.Equal(0, MetricsText.Value(await daemon.ScrapeAsync(), "nodedns_udp_misses_completed_off_listener_total"));
        }
    }
}
