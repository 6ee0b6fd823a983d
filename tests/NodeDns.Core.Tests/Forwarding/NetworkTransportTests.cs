using System.Net;
using NodeDns.EndToEnd.Support;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests.Forwarding;

/// <summary>The real transport in process, against a scripted upstream on loopback (UDP and TCP).</summary>
public sealed class NetworkTransportTests : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(5);
    private readonly ForwarderCounters _counters = new();
    private readonly NetworkTransport _transport;

    public NetworkTransportTests() => _transport = new NetworkTransport(_counters);

    private static UpstreamQuestion Question(string name) => new(Wire.Name(name), DnsType.A, DnsClass.IN, dnssecOk: false, checkingDisabled: false);

    private static Task<IReadOnlyList<byte[]>> TruncatedOverUdp(ReceivedQuery q) => Task.FromResult<IReadOnlyList<byte[]>>(
        [q.OverTcp ? ScriptedUpstream.AnswerA(q.Message, 60, last: 7) : ScriptedUpstream.Reply(q.Message, 0, 0, [], extraFlags: DnsHeader.TcBit)]);

    [Fact]
    public async Task A_truncated_udp_answer_is_fetched_again_over_tcp() // CP-11
    {
        await using var upstream = new ScriptedUpstream(TruncatedOverUdp);
        using var timeout = new CancellationTokenSource(Wait);

        DnsResponseMessage response = await _transport.ExchangeAsync(new UpstreamServer(upstream.EndPoint, UpstreamTransport.Udp), Question("tc.example"),
            reactor: null, timeout.Token);

        Assert.False(response.Truncated);
        Assert.Equal(7, Assert.Single(response.ToRecords()).Data[3]);
        Assert.Equal(1, _counters.TcpRetriesAfterTruncation);
        Assert.Equal([false, true], upstream.Received.Select(q => q.OverTcp));
    }

    [Fact]
    public async Task A_udp_only_upstream_relays_the_truncated_answer()
    {
        await using var upstream = new ScriptedUpstream(TruncatedOverUdp);
        using var timeout = new CancellationTokenSource(Wait);

        DnsResponseMessage response = await _transport.ExchangeAsync(new UpstreamServer(upstream.EndPoint, UpstreamTransport.UdpOnly),
            Question("tc.example"), reactor: null, timeout.Token);

        Assert.True(response.Truncated);
        Assert.DoesNotContain(upstream.Received, q => q.OverTcp);
    }

    [Fact]
    public async Task A_tcp_upstream_gets_concurrent_questions_pipelined_on_one_connection() // CP-13
    {
        await using var upstream = new ScriptedUpstream(async q =>
        {
            await Task.Delay(50);
            return [ScriptedUpstream.AnswerA(q.Message, 60, last: (byte)q.Name.Length)];
        });
        using var timeout = new CancellationTokenSource(Wait);
        var server = new UpstreamServer(upstream.EndPoint, UpstreamTransport.Tcp);

        DnsResponseMessage[] answers = await Task.WhenAll(Enumerable.Range(0, 10)
            .Select(i => _transport.ExchangeAsync(server, Question($"{new string('q', i + 1)}.example"), reactor: null, timeout.Token).AsTask()));

        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(i + 1 + ".example".Length, Assert.Single(answers[i].ToRecords()).Data[3]); // each got its own answer
        }

        Assert.Single(upstream.Received.Select(q => q.From.Port).Distinct());
    }

    public async ValueTask DisposeAsync() => await _transport.DisposeAsync();
}
