using Microsoft.Extensions.Time.Testing;
using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests.Caching;

/// <summary>
/// FZ-06: random sequences of inserts, lookups, clock steps, sweeps and reconfigurations against <see cref="DnsCache"/>
/// and a reference model a few lines long (a dictionary of what was stored when, for how long). Every lookup must
/// decide hit, stale or miss as the model does, hand back what was stored last for that key, and serve it with the
/// TTL counted down by the whole seconds elapsed. Answers served are read back by the strict parser.
/// </summary>
public class CacheModelTests
{
    private static readonly TimeSpan StaleWindow = TimeSpan.FromSeconds(40);
    private static readonly TimeSpan MaxFailureTtl = TimeSpan.FromSeconds(30);

    /// <summary>The reference: one value per key, with the time it was stored and its TTL.</summary>
    private sealed record Stored(EntryKind Kind, int Value, long StoredAt, uint Ttl)
    {
        public long ExpiresAt(long frequency) => StoredAt + (Ttl * frequency);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Without_eviction_the_cache_decides_exactly_as_the_model(int seed)
    {
        var time = new FakeTimeProvider();
        var options = new CacheOptions { PositiveEntries = 1000, NegativeEntries = 1000, FailureEntries = 1000, StaleWindow = StaleWindow, MaxFailureTtl = MaxFailureTtl };
        var cache = new DnsCache(options, time);
        var model = new Dictionary<string, Stored>();
        var random = new Random(seed);
        long frequency = time.TimestampFrequency;

        for (int step = 0; step < 20_000; step++)
        {
            string name = $"n{random.Next(60)}.example";
            long now = time.GetTimestamp();
            switch (random.Next(10))
            {
                case 0 or 1 or 2:
                    InsertRandom(cache, model, random, name, now);
                    break;
                case 3:
                    time.Advance(Step(random, 20));
                    break;
                case 4:
                    int swept = cache.SweepExpired();
                    int expected = model.RemoveAll(s => now >= Retained(s, frequency));
                    Assert.Equal(expected, swept);
                    break;
                default:
                    AssertLookup(cache, model, name, now, frequency, $"seed {seed} step {step}");
                    break;
            }

            Assert.Equal(model.Values.Count(s => s.Kind == EntryKind.Positive), cache.PositiveCount);
            Assert.Equal(model.Values.Count(s => s.Kind == EntryKind.Negative), cache.NegativeCount);
            Assert.Equal(model.Values.Count(s => s.Kind == EntryKind.Failure), cache.FailureCount);
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void With_eviction_a_hit_is_always_what_the_model_holds_and_the_bounds_hold(int seed)
    {
        var time = new FakeTimeProvider();
        var options = new CacheOptions { PositiveEntries = 20, NegativeEntries = 10, FailureEntries = 5, MaxBytes = 12_000, StaleWindow = StaleWindow };
        var cache = new DnsCache(options, time);
        var model = new Dictionary<string, Stored>();
        var random = new Random(seed);
        long frequency = time.TimestampFrequency;

        for (int step = 0; step < 20_000; step++)
        {
            string name = $"n{random.Next(200)}.example";
            long now = time.GetTimestamp();
            switch (random.Next(8))
            {
                case 0 or 1 or 2:
                    InsertRandom(cache, model, random, name, now);
                    break;
                case 3:
                    time.Advance(Step(random, 5));
                    break;
                case 4 when step % 50 == 0:
                    options = options with { PositiveEntries = random.Next(5, 30), MaxBytes = random.Next(4_000, 16_000) };
                    cache.Reconfigure(options);
                    break;
                default:
                    if (cache.TryGetFresh(Key(name), now, out CacheEntry entry))
                    {
                        Assert.True(model.TryGetValue(name, out Stored? stored), $"step {step}: {name} hit but never stored");
                        Assert.True(now < stored.ExpiresAt(frequency), $"step {step}: {name} hit after it expired");
                        AssertServes(entry, name, stored, now, frequency, $"step {step}");
                    }

                    break;
            }

            Assert.InRange(cache.PositiveCount, 0, options.PositiveEntries);
            Assert.InRange(cache.NegativeCount, 0, options.NegativeEntries);
            Assert.InRange(cache.FailureCount, 0, options.FailureEntries);
            Assert.InRange(cache.Bytes, 0, options.MaxBytes);
        }
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void With_answers_of_many_sizes_in_a_few_chunks_a_hit_is_what_was_stored_last_and_the_counts_add_up(int seed)
    {
        // Budgets of one to four chunks and answers of 1 to 60 records (about 30 block sizes): chunks are emptied,
        // carved for other sizes and given back all the time.
        var time = new FakeTimeProvider();
        var options = new CacheOptions { PositiveEntries = 2_000, NegativeEntries = 500, FailureEntries = 100, MaxBytes = 2 << 17, StaleWindow = StaleWindow };
        var cache = new DnsCache(options, time);
        var model = new Dictionary<string, (int Records, int Value)>();
        var random = new Random(seed);
        for (int step = 0; step < 30_000; step++)
        {
            string name = $"n{random.Next(400)}.example";
            switch (random.Next(12))
            {
                case 0:
                    time.Advance(Step(random, 20));
                    break;
                case 1 when step % 10 == 0:
                    cache.SweepExpired();
                    break;
                case 2 when step % 200 == 0:
                    options = options with { MaxBytes = (long)random.Next(1, 5) << 17, PositiveEntries = random.Next(50, 2_000) };
                    cache.Reconfigure(options);
                    break;
                case 3 or 4 or 5 or 6:
                    int records = 1 + random.Next(60);
                    int value = random.Next(1, 250);
                    var kind = random.Next(5) == 0 ? EntryKind.Negative : EntryKind.Positive;
                    cache.Insert(Key(name), TestAnswers.ARecords(name, records, r => [10, (byte)r, 0, (byte)value]), kind, (uint)random.Next(1, 60));
                    model[name] = (records, value);
                    break;
                default:
                    if (cache.TryGetFresh(Key(name), time.GetTimestamp(), out CacheEntry entry))
                    {
                        (int storedRecords, int storedValue) = model[name];
                        var served = StrictDnsMessage.Parse(Serve(entry, name));
                        Assert.Equal(storedRecords, served.Records.Count);
                        Assert.All(served.Records, r => Assert.Equal(storedValue, r.Data[3]));
                    }

                    break;
            }

            if (step % 500 == 0)
            {
                int found = model.Keys.Count(n => cache.TryGetAny(Key(n), out _));
                Assert.Equal(cache.PositiveCount + cache.NegativeCount + cache.FailureCount, found);
                Assert.InRange(cache.ChunkBytes, 0, Math.Max(options.MaxBytes, 1 << 17));
                Assert.InRange(cache.Bytes, 0, options.MaxBytes);
            }
        }
    }

    private static byte[] Serve(CacheEntry entry, string name)
    {
        byte[] query = Wire.Query(name, edns: false);
        QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info);
        byte[] buffer = new byte[DnsLimits.MaxMessageLength];
        int length = entry.TryWrite(query, info, 0, DnsLimits.MaxMessageLength, buffer);
        Assert.True(length > 0, "a hit that could not be served");
        return buffer[..length];
    }

    private static void AssertLookup(DnsCache cache, Dictionary<string, Stored> model, string name, long now, long frequency, string because)
    {
        bool known = model.TryGetValue(name, out Stored? stored);
        bool fresh = known && now < stored!.ExpiresAt(frequency);
        Assert.Equal(fresh, cache.TryGetFresh(Key(name), now, out CacheEntry entry));
        if (fresh)
        {
            AssertServes(entry, name, stored!, now, frequency, because);
            return;
        }

        Assert.Equal(known, cache.TryGetAny(Key(name), out CacheEntry any));
        if (known)
        {
            Assert.Equal(stored!.Value, ValueOf(any, name));
            bool servableStale = stored.Kind != EntryKind.Failure && now < stored.ExpiresAt(frequency) + (long)(StaleWindow.TotalSeconds * frequency);
            Assert.Equal(servableStale, cache.IsServableStale(any, now));
        }
    }

    /// <summary>The entry answers with the value stored last, its TTL counted down by the whole seconds since then.</summary>
    private static void AssertServes(CacheEntry entry, string name, Stored stored, long now, long frequency, string because)
    {
        Assert.Equal(stored.Kind, entry.Kind);
        byte[] query = Wire.Query(name, edns: false);
        Assert.Equal(QueryVerdict.Resolve, QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info));
        byte[] buffer = new byte[DnsLimits.MaxMessageLength];
        uint elapsed = (uint)((now - entry.StoredAt) / frequency);
        byte[] served = buffer[..entry.Template.Write(query, info, elapsed, DnsLimits.MaxMessageLength, buffer)];
        StrictRecord record = Assert.Single(StrictDnsMessage.Parse(served).Records);
        Assert.Equal(stored.Value, record.Data[3]);
        Assert.True(stored.Ttl - (uint)((now - stored.StoredAt) / frequency) == record.Ttl, $"{because}: TTL {record.Ttl}");
        Assert.True(record.Ttl > 0, $"{because}: a fresh answer served with TTL 0");
    }

    /// <summary>Stores a random kind, value and TTL for <paramref name="name"/> in the cache and in the model alike.</summary>
    private static void InsertRandom(DnsCache cache, Dictionary<string, Stored> model, Random random, string name, long now)
    {
        var kind = (EntryKind)random.Next(3);
        uint ttl = (uint)random.Next(1, 90);
        int value = random.Next(1, 250);
        cache.Insert(Key(name), Template(name, value, ttl), kind, ttl);
        model[name] = new Stored(kind, value, now, ttl);
    }

    /// <summary>Mostly whole seconds, so that lookups land exactly on expiry times too; sometimes a fraction.</summary>
    private static TimeSpan Step(Random random, int maxSeconds) => random.Next(4) == 0
        ? TimeSpan.FromMilliseconds(random.Next(0, maxSeconds * 1000))
        : TimeSpan.FromSeconds(random.Next(0, maxSeconds));

    private static long Retained(Stored stored, long frequency) => stored.Kind == EntryKind.Failure
        ? stored.ExpiresAt(frequency) + (long)(MaxFailureTtl.TotalSeconds * frequency)
        : stored.ExpiresAt(frequency) + (long)(StaleWindow.TotalSeconds * frequency);

    private static int ValueOf(CacheEntry entry, string name)
    {
        byte[] query = Wire.Query(name, edns: false);
        QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info);
        byte[] buffer = new byte[DnsLimits.MaxMessageLength];
        int length = entry.Template.Write(query, info, 0, DnsLimits.MaxMessageLength, buffer);
        return buffer[length - 1];
    }

    /// <summary>An answer whose A record ends in <paramref name="value"/>, so a hit shows which insert it came from.</summary>
    private static ResponseTemplate Template(string name, int value, uint ttl)
    {
        byte[] message = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question(name).Record(name, 1, ttl, [10, 0, 0, (byte)value]).ToArray();
        Assert.True(ResponseReader.TryRead(message, out DnsResponseMessage response));
        return ResponseTemplateBuilder.Build(Wire.Name(name), 1, 1, 0, false, response.ToRecords(), ttl)!;
    }

    private static byte[] Key(string name) => [.. Wire.Name(name), 0, 1, 0, 1, 0];
}

internal static class DictionaryExtensions
{
    public static int RemoveAll<TKey, TValue>(this Dictionary<TKey, TValue> dictionary, Func<TValue, bool> match)
        where TKey : notnull
    {
        TKey[] keys = [.. dictionary.Where(pair => match(pair.Value)).Select(pair => pair.Key)];
        foreach (TKey key in keys)
        {
            dictionary.Remove(key);
        }

        return keys.Length;
    }
}
