using NodeDns.Caching;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests;

public class PipelineTests
{
    [Fact]
    public async Task Fifty_concurrent_identical_misses_cause_one_upstream_query() // CP-05
    {
        var h = new PipelineHarness();
        h.Transport.Script = async (_, q, ct) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), h.Time, ct);
            return ScriptedTransport.Answer(q, 60);
        };

        Task<byte[]>[] asks = [.. Enumerable.Range(0, 50).Select(i => h.AskAsync("same.example", id: (ushort)i))];
        byte[][] answers = await h.RunAsync(Task.WhenAll(asks));

        Assert.Equal(1, h.Transport.CallsFor("same.example"));
        Assert.All(answers, (a, i) => Assert.Equal(i, Wire.ReadU16(a, 0)));
        Assert.All(answers, a => Assert.Equal(0, PipelineHarness.Rcode(a)));
        Assert.Equal(49, h.Pipeline.Counters.Coalesced);
    }

    [Fact]
    public async Task Questions_in_flight_are_reused_and_each_round_of_waiters_gets_its_own_answer()
    {
        // TTL 0: nothing is cached, so every round is forwarded again and answered from a reused in-flight question.
        var h = new PipelineHarness();
        h.Transport.Script = async (_, q, ct) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), h.Time, ct);
            string name = DnsName.ToText(q.Name);
            byte last = byte.Parse(name[1..name.IndexOf('.', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
            return last % 2 == 0 ? ScriptedTransport.Answer(q, 0, last) : ScriptedTransport.NxDomain(q, 0);
        };

        for (int round = 0; round < 40; round++)
        {
            Task<byte[]>[] asks = [.. Enumerable.Range(0, 12).Select(i => h.AskAsync($"r{(round * 3) + (i % 3)}.example", id: (ushort)i))];
            byte[][] answers = await h.RunAsync(Task.WhenAll(asks));
            for (int i = 0; i < answers.Length; i++)
            {
                int n = (round * 3) + (i % 3);
                Assert.Equal(i, Wire.ReadU16(answers[i], 0));
                Assert.Equal(Wire.Name($"r{n}.example"), answers[i].AsSpan(12, Wire.Name($"r{n}.example").Length).ToArray());
                Assert.Equal(n % 2 == 0 ? DnsRcode.NoError : DnsRcode.NxDomain, PipelineHarness.Rcode(answers[i]));
                if (n % 2 == 0)
                {
                    StrictRecord a = Assert.Single(StrictDnsMessage.Parse(answers[i]).Records, r => r.Type == DnsType.A);
                    Assert.Equal((byte)n, a.Data[3]); // the address's last byte is the name's number
                }
            }
        }

        Assert.Equal(0, h.Pipeline.InFlight);
    }

    [Fact]
    public async Task Waiters_beyond_the_cap_get_servfail_at_once()
    {
        var h = new PipelineHarness(new PipelineOptions { MaxWaitersPerQuestion = 5 });
        h.Transport.Script = async (_, q, ct) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(300), h.Time, ct);
            return ScriptedTransport.Answer(q, 60);
        };

        byte[][] answers = await h.RunAsync(Task.WhenAll(Enumerable.Range(0, 10).Select(_ => h.AskAsync("same.example"))));
        Assert.Equal(5, answers.Count(a => PipelineHarness.Rcode(a) == DnsRcode.NoError));
        Assert.Equal(5, answers.Count(a => PipelineHarness.Rcode(a) == DnsRcode.ServFail));
    }

    [Fact]
    public async Task Servfail_is_cached_and_retried_after_back_off() // FL-03, RFC 9520
    {
        var h = new PipelineHarness(cache: new CacheOptions { StaleWindow = TimeSpan.Zero });
        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.Reply(q, DnsRcode.ServFail));

        Assert.Equal(DnsRcode.ServFail, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync("bad.example"))));
        int firstRound = h.Transport.CallsFor("bad.example");
        Assert.InRange(firstRound, 1, 3);

        Assert.Equal(DnsRcode.ServFail, PipelineHarness.Rcode(await h.AskAsync("bad.example")));
        Assert.Equal(firstRound, h.Transport.CallsFor("bad.example")); // answered from the failure cache

        h.Time.Advance(TimeSpan.FromSeconds(1.1)); // first back-off: 1 s
        await h.RunAsync(h.AskAsync("bad.example"));
        int secondRound = h.Transport.CallsFor("bad.example");
        Assert.True(secondRound > firstRound);

        h.Time.Advance(TimeSpan.FromSeconds(1.5)); // second back-off: 2 s
        await h.AskAsync("bad.example");
        Assert.Equal(secondRound, h.Transport.CallsFor("bad.example"));
        h.Time.Advance(TimeSpan.FromSeconds(0.6));
        await h.RunAsync(h.AskAsync("bad.example"));
        Assert.True(h.Transport.CallsFor("bad.example") > secondRound);

        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.Answer(q, 60));
        h.Time.Advance(TimeSpan.FromSeconds(4.1));
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync("bad.example"))));
    }

    [Fact]
    public async Task Silent_upstream_gives_servfail_within_four_seconds() // FL-01
    {
        var h = new PipelineHarness();
        h.Transport.Script = (_, _, ct) => ScriptedTransport.Silence(ct);
        long start = h.Time.GetTimestamp();

        byte[] answer = await h.RunAsync(h.AskAsync("silent.example"));

        Assert.Equal(DnsRcode.ServFail, PipelineHarness.Rcode(answer));
        Assert.InRange(h.Time.GetElapsedTime(start).TotalSeconds, 3.9, 4.2);
        Assert.Equal(2, h.Transport.CallsFor("silent.example")); // tries at 0 s and 2 s; a third would start at the deadline
    }

    [Fact]
    public async Task Slow_upstream_answer_after_three_seconds_gets_through() // FL-02
    {
        var h = new PipelineHarness();
        int call = 0;
        h.Transport.Script = async (_, q, ct) =>
        {
            if (Interlocked.Increment(ref call) == 1)
            {
                await Task.Delay(TimeSpan.FromSeconds(3), h.Time, ct);
                return ScriptedTransport.Answer(q, 60, last: 3);
            }

            return await ScriptedTransport.Silence(ct);
        };

        byte[] answer = await h.RunAsync(h.AskAsync("slow.example"));
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(answer));
        Assert.Equal(3, PipelineHarness.LastOctet(answer));
    }

    [Fact]
    public async Task Stale_answer_is_served_at_1_8_s_when_the_upstream_dies_after_the_ttl() // FL-05, RFC 8767
    {
        var h = new PipelineHarness();
        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.Answer(q, 10, last: 5));
        await h.RunAsync(h.AskAsync("stale.example"));

        h.Transport.Script = (_, _, ct) => ScriptedTransport.Silence(ct);
        h.Time.Advance(TimeSpan.FromSeconds(11));
        long start = h.Time.GetTimestamp();
        byte[] stale = await h.RunAsync(h.AskAsync("stale.example"));

        Assert.InRange(h.Time.GetElapsedTime(start).TotalSeconds, 1.75, 1.95);
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(stale));
        Assert.Equal(5, PipelineHarness.LastOctet(stale));
        Assert.Equal(30u, PipelineHarness.FirstTtl(stale));

        await h.RunAsync(Task.Run(h.SettleAsync).ContinueWith(_ => 0)); // let the forward fail and the failure be cached
        int calls = h.Transport.CallsFor("stale.example");
        byte[] again = await h.AskAsync("stale.example"); // now straight from the failure entry, no upstream query
        Assert.Equal(5, PipelineHarness.LastOctet(again));
        Assert.Equal(calls, h.Transport.CallsFor("stale.example"));
        Assert.True(h.Pipeline.Counters.ServedStale >= 2);
    }

    [Fact]
    public async Task Without_serve_stale_an_expired_name_with_a_dead_upstream_gets_servfail()
    {
        var h = new PipelineHarness(cache: new CacheOptions { StaleWindow = TimeSpan.Zero });
        await h.RunAsync(h.AskAsync("gone.example"));
        h.Transport.Script = (_, _, ct) => ScriptedTransport.Silence(ct);
        h.Time.Advance(TimeSpan.FromSeconds(301));
        Assert.Equal(DnsRcode.ServFail, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync("gone.example"))));
    }

    [Fact]
    public async Task Prefer_positive_serves_stale_data_over_a_fresh_nxdomain()
    {
        var h = new PipelineHarness(new PipelineOptions { PreferPositiveStale = true });
        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.Answer(q, 10, last: 6));
        await h.RunAsync(h.AskAsync("flappy.example"));

        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.NxDomain(q, 60));
        h.Time.Advance(TimeSpan.FromSeconds(11));
        byte[] answer = await h.RunAsync(h.AskAsync("flappy.example"));
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(answer));
        Assert.Equal(6, PipelineHarness.LastOctet(answer));

        var plain = new PipelineHarness();
        plain.Transport.Script = h.Transport.Script;
        Assert.Equal(DnsRcode.NxDomain, PipelineHarness.Rcode(await plain.RunAsync(plain.AskAsync("flappy.example"))));
    }

    [Fact]
    public async Task Prefetch_refreshes_a_popular_name_so_clients_never_miss()
    {
        var h = new PipelineHarness(new PipelineOptions { PrefetchHits = 2, PrefetchPercent = 10 });
        byte generation = 0;
        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.Answer(q, 100, last: ++generation));

        await h.RunAsync(h.AskAsync("hot.example"));
        for (int second = 0; second < 350; second++)
        {
            await h.AskAsync("hot.example");
            await h.SettleAsync();
            h.Time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(1, h.Pipeline.Counters.CacheMisses);
        Assert.InRange(h.Pipeline.Counters.Prefetches, 3, 4);
        Assert.InRange(h.Transport.CallsFor("hot.example"), 4, 5);
    }

    [Fact]
    public async Task An_unpopular_name_is_not_prefetched()
    {
        var h = new PipelineHarness(new PipelineOptions { PrefetchHits = 3, PrefetchWindow = TimeSpan.FromSeconds(10) });
        await h.RunAsync(h.AskAsync("cold.example"));
        h.Time.Advance(TimeSpan.FromSeconds(295));
        await h.AskAsync("cold.example");
        await h.SettleAsync();
        Assert.Equal(0, h.Pipeline.Counters.Prefetches);
    }

    [Fact]
    public async Task A_dead_upstream_is_marked_down_skipped_and_probed_back() // FL-08, FL-09
    {
        var h = new PipelineHarness(upstreams: 2);
        bool firstAlive = false;
        h.Transport.Script = (server, q, ct) => server.EndPoint.Address.ToString() == "127.0.0.1" && !firstAlive
            ? ScriptedTransport.Silence(ct)
            : Task.FromResult(ScriptedTransport.Answer(q, 60));

        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync($"n{i}.example"))));
        }

        Assert.True(h.Pool.Upstreams[0].IsDown);
        int before = h.Transport.Calls.Count(c => c.Server.EndPoint.Address.ToString() == "127.0.0.1" && c.Question.Name.Length > 1);
        await h.RunAsync(h.AskAsync("after.example"));
        Assert.Equal(before, h.Transport.Calls.Count(c => c.Server.EndPoint.Address.ToString() == "127.0.0.1" && c.Question.Name.Length > 1));

        firstAlive = true;
        await h.RunAsync(Task.Run(async () =>
        {
            while (h.Pool.Upstreams[0].IsDown)
            {
                await Task.Delay(5);
            }

            return 0;
        }));
        Assert.Contains(h.Transport.Calls, c => c.Question.Name.Length == 1); // probed with ". NS"
    }

    [Fact]
    public async Task Any_over_udp_gets_one_synthesized_hinfo_and_nothing_is_forwarded() // RFC 8482
    {
        var h = new PipelineHarness();
        byte[] udp = await h.RunAsync(h.AskAsync("big.example", type: DnsType.ANY));

        Assert.Empty(h.Transport.Calls);
        (string question, ushort type, IReadOnlyList<StrictRecord> records) = StrictDnsMessage.Parse(udp);
        Assert.Equal(("big.example", DnsType.ANY), (question, type));
        StrictRecord hinfo = Assert.Single(records, r => r.Section == 0);
        Assert.Equal(13, hinfo.Type);
        Assert.Equal("RFC8482", System.Text.Encoding.ASCII.GetString(hinfo.Data, 1, hinfo.Data[0]));
        Assert.Equal(0, hinfo.Data[hinfo.Data[0] + 1]); // an empty OS string
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(udp));

        await h.RunAsync(h.AskAsync("big.example", type: DnsType.ANY, overTcp: true));
        Assert.Equal(1, h.Transport.CallsFor("big.example")); // over TCP it is forwarded
    }

    [Fact]
    public async Task A_retired_upstream_is_no_longer_probed()
    {
        var h = new PipelineHarness(upstreams: 1, maxFails: 1);
        h.Transport.Script = (_, _, ct) => ScriptedTransport.Silence(ct);
        await h.RunAsync(h.AskAsync("x.example"));
        NodeDns.Forwarding.Upstream dead = h.Pool.Upstreams[0];
        Assert.True(dead.IsDown);

        dead.Retire(); // a reload removed it
        int probes = h.Transport.Calls.Count(c => c.Question.Name.Length == 1);
        for (int i = 0; i < 20; i++)
        {
            h.Time.Advance(TimeSpan.FromSeconds(1));
            await h.SettleAsync();
        }

        Assert.InRange(h.Transport.Calls.Count(c => c.Question.Name.Length == 1), probes, probes + 1); // at most the one in flight
        Assert.True(dead.TryStartProbing(), "the probe loop should have ended and released its claim");
    }

    [Fact]
    public async Task All_upstreams_down_still_tries_one()
    {
        var h = new PipelineHarness(upstreams: 1, maxFails: 1);
        h.Transport.Script = (_, _, ct) => ScriptedTransport.Silence(ct);
        await h.RunAsync(h.AskAsync("x.example"));
        Assert.True(h.Pool.AllDown);

        h.Transport.Script = (_, q, _) => Task.FromResult(ScriptedTransport.Answer(q, 60));
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync("y.example"))));
    }

    [Fact]
    public async Task Clients_outside_the_allow_list_get_refused_even_for_cached_names()
    {
        var h = new PipelineHarness(clients: new ClientPolicyOptions());
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync("x.example", client: "10.1.2.3"))));
        Assert.Equal(DnsRcode.Refused, PipelineHarness.Rcode(await h.AskAsync("x.example", client: "203.0.113.7")));
        Assert.Equal(DnsRcode.Refused, PipelineHarness.Rcode(await h.AskAsync("y.example", client: "203.0.113.7")));
        Assert.Equal(0, h.Transport.CallsFor("y.example"));
    }

    [Fact]
    public async Task A_noisy_client_is_limited_on_misses_while_hits_and_other_clients_go_on()
    {
        var h = new PipelineHarness(clients: new ClientPolicyOptions { MissesPerSecond = 1, MissBurst = 2 });
        await h.RunAsync(h.AskAsync("hot.example", client: "10.0.0.9"));
        byte[][] flood = await h.RunAsync(Task.WhenAll(Enumerable.Range(0, 5).Select(i => h.AskAsync($"r{i}.example", client: "10.0.0.1"))));
        Assert.Equal(2, flood.Count(a => PipelineHarness.Rcode(a) == DnsRcode.NoError));
        Assert.Equal(3, flood.Count(a => PipelineHarness.Rcode(a) == DnsRcode.Refused));
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(await h.AskAsync("hot.example", client: "10.0.0.1"))); // a hit: not limited
        Assert.Equal(DnsRcode.NoError, PipelineHarness.Rcode(await h.RunAsync(h.AskAsync("other.example", client: "10.0.0.2"))));
    }

    [Fact]
    public async Task More_distinct_misses_than_the_in_flight_cap_get_servfail_at_once() // LD-04
    {
        var h = new PipelineHarness(new PipelineOptions { MaxInFlight = 3 });
        h.Transport.Script = async (_, q, ct) =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), h.Time, ct);
            return ScriptedTransport.Answer(q, 60);
        };

        byte[][] answers = await h.RunAsync(Task.WhenAll(Enumerable.Range(0, 10).Select(i => h.AskAsync($"m{i}.example"))));
        Assert.Equal(3, answers.Count(a => PipelineHarness.Rcode(a) == DnsRcode.NoError));
        Assert.Equal(7, answers.Count(a => PipelineHarness.Rcode(a) == DnsRcode.ServFail));
        Assert.Equal(7, h.Pipeline.Counters.Overloaded);
    }
}
