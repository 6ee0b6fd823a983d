using System.Net;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Core.Tests;

/// <summary>Node-local autopath in the pipeline: a pod's whole search list answered from its first question.</summary>
public class AutopathTests
{
    private const string Pod = "10.244.1.5";
    private static readonly string[] ShopSearch = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local", "corp.example"];

    private sealed class FixedSearchPaths(Dictionary<string, SearchList> lists) : ISearchPaths
    {
        public SearchList? For(ClientAddress client) =>
            lists.FirstOrDefault(l => ClientAddress.From(IPAddress.Parse(l.Key)) == client).Value;
    }

    private static SearchList List(int id, params string[] domains) => new(id, [.. domains.Select(Wire.Name)]);

    /// <summary>An upstream where only the given names exist (A 192.0.2.1, TTL 300); everything else is NXDOMAIN (the root's SOA, 60 s).</summary>
    private static PipelineHarness Harness(string[] existing, Dictionary<string, SearchList>? lists = null)
    {
        var h = new PipelineHarness(searchPaths: new FixedSearchPaths(lists ?? new() { [Pod] = List(1, ShopSearch) }));
        h.Transport.Script = (_, q, _) => Task.FromResult(existing.Contains(DnsName.ToText(q.Name).TrimEnd('.'))
            ? ScriptedTransport.Answer(q, 300)
            : ScriptedTransport.Reply(q, DnsRcode.NxDomain, w => w.Record(".", DnsType.SOA, 60, Wire.Soa("a.root-servers.net", "host.example", 60)), authority: 1));
        return h;
    }

    private static (string Question, IReadOnlyList<StrictRecord> Records, int Rcode) Parse(byte[] answer)
    {
        (string question, _, IReadOnlyList<StrictRecord> records) = StrictDnsMessage.Parse(answer);
        return (question, records, PipelineHarness.Rcode(answer));
    }

    [Fact]
    public async Task The_first_expansion_is_answered_with_a_cname_to_the_name_that_exists()
    {
        PipelineHarness h = Harness(["api.github.com"]);
        byte[] answer = await h.RunAsync(h.AskAsync("api.github.com.shop.svc.cluster.local", client: Pod));

        (string question, IReadOnlyList<StrictRecord> records, int rcode) = Parse(answer);
        Assert.Equal("api.github.com.shop.svc.cluster.local", question);
        Assert.Equal(DnsRcode.NoError, rcode);
        Assert.Equal(DnsType.CNAME, records[0].Type);
        Assert.Equal("api.github.com.shop.svc.cluster.local", records[0].Owner);
        Assert.Equal(Wire.Name("api.github.com"), records[0].Data);
        Assert.Equal(("api.github.com", DnsType.A), (records[1].Owner, records[1].Type));
        Assert.Equal(["api.github.com.shop.svc.cluster.local.", "api.github.com.svc.cluster.local.", "api.github.com.cluster.local.",
            "api.github.com.corp.example.", "api.github.com."], h.Transport.Calls.Select(c => DnsName.ToText(c.Question.Name)));
        Assert.Equal(1, h.Pipeline.Counters.AutopathAnswers);
        Assert.Equal(4, h.Pipeline.Counters.AutopathExpansionsSaved);
        Assert.True(records.All(r => r.Ttl <= 60), "no longer than the names it skipped stay NXDOMAIN");

        int calls = h.Transport.Calls.Count;
        (_, IReadOnlyList<StrictRecord> again, _) = Parse(await h.RunAsync(h.AskAsync("api.github.com.shop.svc.cluster.local", client: Pod)));
        Assert.Equal(DnsType.CNAME, again[0].Type); // from the cache, per search list
        Assert.Equal(calls, h.Transport.Calls.Count);
    }

    [Fact]
    public async Task The_walk_stops_at_the_first_name_in_search_order_that_exists()
    {
        PipelineHarness h = Harness(["redis.svc.cluster.local", "redis"]);
        (_, IReadOnlyList<StrictRecord> records, _) = Parse(await h.RunAsync(h.AskAsync("redis.shop.svc.cluster.local", client: Pod)));
        Assert.Equal(Wire.Name("redis.svc.cluster.local"), records[0].Data);
        Assert.DoesNotContain(h.Transport.Calls, c => DnsName.ToText(c.Question.Name) == "redis.");
    }

    [Fact]
    public async Task A_name_that_exists_as_asked_is_answered_as_usual()
    {
        PipelineHarness h = Harness(["kubernetes.shop.svc.cluster.local"]);
        (_, IReadOnlyList<StrictRecord> records, _) = Parse(await h.RunAsync(h.AskAsync("kubernetes.shop.svc.cluster.local", client: Pod)));
        Assert.Equal(DnsType.A, Assert.Single(records, r => r.Section == 0).Type);
        Assert.Single(h.Transport.Calls);

        long hits = h.Pipeline.Counters.CacheHits;
        await h.RunAsync(h.AskAsync("kubernetes.shop.svc.cluster.local", client: Pod));
        Assert.Equal(hits + 1, h.Pipeline.Counters.CacheHits); // still a plain cache hit on the hit path, not a walk
        Assert.Single(h.Transport.Calls);
    }

    [Fact]
    public async Task When_nothing_exists_the_client_gets_the_asked_names_nxdomain_and_walks_on()
    {
        PipelineHarness h = Harness([]);
        (_, IReadOnlyList<StrictRecord> records, int rcode) = Parse(await h.RunAsync(h.AskAsync("nope.shop.svc.cluster.local", client: Pod)));
        Assert.Equal(DnsRcode.NxDomain, rcode);
        Assert.DoesNotContain(records, r => r.Type == DnsType.CNAME);
        Assert.Equal(0, h.Pipeline.Counters.AutopathAnswers);

        int calls = h.Transport.Calls.Count;
        Assert.Equal(DnsRcode.NxDomain, Parse(await h.RunAsync(h.AskAsync("nope.shop.svc.cluster.local", client: Pod))).Rcode);
        Assert.Equal(calls, h.Transport.Calls.Count); // the walk's outcome is remembered for the list too
    }

    [Fact]
    public async Task Unknown_clients_and_questions_outside_the_first_search_domain_get_plain_answers()
    {
        PipelineHarness h = Harness(["api.github.com"]);
        Assert.Equal(DnsRcode.NxDomain, Parse(await h.RunAsync(h.AskAsync("api.github.com.shop.svc.cluster.local", client: "10.9.9.9"))).Rcode);
        Assert.Equal(DnsRcode.NxDomain, Parse(await h.RunAsync(h.AskAsync("api.github.com.svc.cluster.local", client: Pod))).Rcode);
        Assert.Equal(0, h.Pipeline.Counters.AutopathAnswers);
    }

    [Fact]
    public async Task A_pod_with_another_search_list_does_not_get_the_first_ones_answer()
    {
        var lists = new Dictionary<string, SearchList> { [Pod] = List(1, ShopSearch), ["10.244.1.6"] = List(2, "shop.svc.cluster.local", "mine.example") };
        PipelineHarness h = Harness(["api.github.com.cluster.local", "api.github.com.mine.example"], lists);
        (_, IReadOnlyList<StrictRecord> first, _) = Parse(await h.RunAsync(h.AskAsync("api.github.com.shop.svc.cluster.local", client: Pod)));
        (_, IReadOnlyList<StrictRecord> other, _) = Parse(await h.RunAsync(h.AskAsync("api.github.com.shop.svc.cluster.local", client: "10.244.1.6")));

        Assert.True(Wire.Name("api.github.com.cluster.local").AsSpan().SequenceEqual(first[0].Data), string.Join("\n", first));
        Assert.True(Wire.Name("api.github.com.mine.example").AsSpan().SequenceEqual(other[0].Data), string.Join("\n", other)
            + "\ncalls: " + string.Join(" ", h.Transport.Calls.Select(c => DnsName.ToText(c.Question.Name))));
    }
}
