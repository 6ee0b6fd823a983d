using Microsoft.Extensions.Time.Testing;
using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests;

public class DnsCacheTests
{
    private readonly FakeTimeProvider _time = new();

    private static ResponseTemplate Template(string name)
    {
        byte[] message = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question(name).Record(name, 1, 60, [192, 0, 2, 1]).ToArray();
        Assert.True(ResponseReader.TryRead(message, out DnsResponseMessage response));
        return ResponseClassifier.Classify(response, Wire.Name(name), TtlPolicy.Default)!.Template;
    }

    private static byte[] Key(string name) => [.. Wire.Name(name), 0, 1, 0, 1, 0];

    [Fact]
    public void Entry_lives_for_its_ttl_and_then_misses()
    {
        var cache = new DnsCache(new CacheLimits(10, 10), _time);
        cache.Insert(Key("a.example"), Template("a.example"), negative: false, ttlSeconds: 30);

        _time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.True(cache.TryGet(Key("a.example"), _time.GetTimestamp(), out CacheEntry entry));
        Assert.Equal(29, (_time.GetTimestamp() - entry.StoredAt) / _time.TimestampFrequency);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(cache.TryGet(Key("a.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Lookup_compares_the_whole_key()
    {
        var cache = new DnsCache(new CacheLimits(10, 10), _time);
        cache.Insert(Key("a.example"), Template("a.example"), false, 30);
        byte[] withDo = Key("a.example");
        withDo[^1] = QueryParser.KeyFlagDnssecOk;

        Assert.False(cache.TryGet(withDo, _time.GetTimestamp(), out _));
        Assert.False(cache.TryGet(Key("b.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Sweep_removes_expired_entries()
    {
        var cache = new DnsCache(new CacheLimits(10, 10), _time);
        cache.Insert(Key("short.example"), Template("short.example"), false, 5);
        cache.Insert(Key("long.example"), Template("long.example"), false, 50);
        cache.Insert(Key("neg.example"), Template("neg.example"), true, 5);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, cache.SweepExpired());
        Assert.Equal(1, cache.PositiveCount);
        Assert.Equal(0, cache.NegativeCount);
    }

    [Fact]
    public void Full_cache_evicts_an_entry_not_hit_since_the_hand_passed()
    {
        var cache = new DnsCache(new CacheLimits(3, 3), _time);
        foreach (string name in new[] { "a.example", "b.example", "c.example" })
        {
            cache.Insert(Key(name), Template(name), false, 300);
        }

        Assert.True(cache.TryGet(Key("a.example"), _time.GetTimestamp(), out _)); // a is hot
        cache.Insert(Key("d.example"), Template("d.example"), false, 300);

        Assert.Equal(3, cache.PositiveCount);
        Assert.Equal(1, cache.Evictions);
        Assert.True(cache.TryGet(Key("a.example"), _time.GetTimestamp(), out _));
        Assert.False(cache.TryGet(Key("b.example"), _time.GetTimestamp(), out _));
        Assert.True(cache.TryGet(Key("d.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Negative_entries_have_their_own_cap_and_replacing_keeps_one_entry()
    {
        var cache = new DnsCache(new CacheLimits(2, 1), _time);
        cache.Insert(Key("n1.example"), Template("n1.example"), true, 300);
        cache.Insert(Key("n2.example"), Template("n2.example"), true, 300);
        cache.Insert(Key("p.example"), Template("p.example"), false, 300);
        cache.Insert(Key("p.example"), Template("p.example"), false, 300);

        Assert.Equal(1, cache.NegativeCount);
        Assert.Equal(1, cache.PositiveCount);
        Assert.True(cache.TryGet(Key("p.example"), _time.GetTimestamp(), out _));
    }
}
