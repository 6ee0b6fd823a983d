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
    public void Entries_stay_found_with_their_own_data_through_many_index_rebuilds()
    {
        // 50 answers at most: every eviction leaves a tombstone, so the index is rebuilt every few hundred inserts, each
        // rebuild refilling the table the one before retired.
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 50, NegativeEntries = 10 }, _time);
        byte[] served = new byte[DnsLimits.MaxMessageLength];
        for (int i = 0; i < 20_000; i++)
        {
            int n = i % 2 == 0 ? (i * 7) % 300 : 300 + i; // names that come back, and names never seen again
            string name = $"n{n}.example";
            byte[] message = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question(name).Record(name, 1, 60, [192, 0, (byte)(n >> 8), (byte)n]).ToArray();
            Assert.True(ResponseReader.TryRead(message, out DnsResponseMessage response));
            cache.Insert(Key(name), ResponseClassifier.Classify(response, Wire.Name(name), TtlPolicy.Default)!.Template, EntryKind.Positive, 60);

            Assert.True(cache.TryGetFresh(Key(name), _time.GetTimestamp(), out CacheEntry entry), $"{name} not found after insert {i}");
            byte[] query = Wire.Query(name, edns: false); // no OPT after the answer's record
            Assert.Equal(QueryVerdict.Resolve, QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info));
            int length = entry.TryWrite(query, info, 0, DnsLimits.MaxMessageLength, served);
            Assert.Equal([192, 0, (byte)(n >> 8), (byte)n], served.AsSpan(length - 4, 4).ToArray());
        }

        int found = Enumerable.Range(0, 20_300).Count(n => cache.TryGetFresh(Key($"n{n}.example"), _time.GetTimestamp(), out _));
        Assert.Equal(cache.PositiveCount, found);
        Assert.InRange(found, 1, 50);
    }

    [Fact]
    public void Entry_lives_for_its_ttl_and_then_misses()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 10, NegativeEntries = 10 }, _time);
        cache.Insert(Key("a.example"), Template("a.example"), EntryKind.Positive, ttlSeconds: 30);

        _time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.True(cache.TryGetFresh(Key("a.example"), _time.GetTimestamp(), out CacheEntry entry));
        Assert.Equal(29, (_time.GetTimestamp() - entry.StoredAt) / _time.TimestampFrequency);

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(cache.TryGetFresh(Key("a.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Lookup_compares_the_whole_key()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 10, NegativeEntries = 10 }, _time);
        cache.Insert(Key("a.example"), Template("a.example"), EntryKind.Positive, 30);
        byte[] withDo = Key("a.example");
        withDo[^1] = QueryParser.KeyFlagDnssecOk;

        Assert.False(cache.TryGetFresh(withDo, _time.GetTimestamp(), out _));
        Assert.False(cache.TryGetFresh(Key("b.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Sweep_removes_expired_entries()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 10, NegativeEntries = 10, StaleWindow = TimeSpan.Zero }, _time);
        cache.Insert(Key("short.example"), Template("short.example"), EntryKind.Positive, 5);
        cache.Insert(Key("long.example"), Template("long.example"), EntryKind.Positive, 50);
        cache.Insert(Key("neg.example"), Template("neg.example"), EntryKind.Negative, 5);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(2, cache.SweepExpired());
        Assert.Equal(1, cache.PositiveCount);
        Assert.Equal(0, cache.NegativeCount);
    }

    [Fact]
    public void Full_cache_evicts_an_entry_not_hit_since_the_hand_passed()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 3, NegativeEntries = 3 }, _time);
        foreach (string name in new[] { "a.example", "b.example", "c.example" })
        {
            cache.Insert(Key(name), Template(name), EntryKind.Positive, 300);
        }

        Assert.True(cache.TryGetFresh(Key("a.example"), _time.GetTimestamp(), out _)); // a is hot
        cache.Insert(Key("d.example"), Template("d.example"), EntryKind.Positive, 300);

        Assert.Equal(3, cache.PositiveCount);
        Assert.Equal(1, cache.Evictions(EntryKind.Positive));
        Assert.True(cache.TryGetFresh(Key("a.example"), _time.GetTimestamp(), out _));
        Assert.False(cache.TryGetFresh(Key("b.example"), _time.GetTimestamp(), out _));
        Assert.True(cache.TryGetFresh(Key("d.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Negative_entries_have_their_own_cap_and_replacing_keeps_one_entry()
    {
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 2, NegativeEntries = 1 }, _time);
        cache.Insert(Key("n1.example"), Template("n1.example"), EntryKind.Negative, 300);
        cache.Insert(Key("n2.example"), Template("n2.example"), EntryKind.Negative, 300);
        cache.Insert(Key("p.example"), Template("p.example"), EntryKind.Positive, 300);
        cache.Insert(Key("p.example"), Template("p.example"), EntryKind.Positive, 300);

        Assert.Equal(1, cache.NegativeCount);
        Assert.Equal(1, cache.PositiveCount);
        Assert.True(cache.TryGetFresh(Key("p.example"), _time.GetTimestamp(), out _));
    }

    [Fact]
    public void Expired_answers_are_kept_for_the_stale_window_then_swept()
    {
        var cache = new DnsCache(new CacheOptions { StaleWindow = TimeSpan.FromMinutes(10) }, _time);
        cache.Insert(Key("a.example"), Template("a.example"), EntryKind.Positive, 5);

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(0, cache.SweepExpired());
        Assert.True(cache.TryGetAny(Key("a.example"), out CacheEntry stale));
        Assert.True(cache.IsServableStale(stale, _time.GetTimestamp()));
        Assert.False(cache.TryGetFresh(Key("a.example"), _time.GetTimestamp(), out _));

        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.False(cache.IsServableStale(stale, _time.GetTimestamp()));
        Assert.Equal(1, cache.SweepExpired());
    }

    [Fact]
    public void A_unique_name_flood_stays_within_caps_and_bytes_and_keeps_hot_entries() // LD-03
    {
        var options = new CacheOptions { PositiveEntries = 200, NegativeEntries = 1_000, MaxBytes = 1 << 20 };
        var cache = new DnsCache(options, _time);
        string[] hot = [.. Enumerable.Range(0, 100).Select(i => $"hot{i}.example")];
        foreach (string name in hot)
        {
            cache.Insert(Key(name), Template(name), EntryKind.Positive, 3600);
        }

        for (int i = 0; i < 20_000; i++)
        {
            string name = $"r{i}.flood.example";
            cache.Insert(Key(name), Template(name), i % 2 == 0 ? EntryKind.Negative : EntryKind.Positive, 60);
            if (i % 50 == 0)
            {
                foreach (string name2 in hot)
                {
                    Assert.True(cache.TryGetFresh(Key(name2), _time.GetTimestamp(), out _), $"{name2} was evicted by the flood");
                }
            }

            Assert.True(cache.Bytes <= options.MaxBytes);
        }

        Assert.InRange(cache.NegativeCount, 1, 1_000);
        Assert.InRange(cache.PositiveCount, hot.Length, 200);
    }

    [Fact]
    public void Byte_budget_evicts_across_kinds()
    {
        int size = DnsCache.SizeOf(Key("x00.example"), Template("x00.example"));
        var cache = new DnsCache(new CacheOptions { MaxBytes = size * 10L }, _time);
        for (int i = 0; i < 50; i++)
        {
            cache.Insert(Key($"x{i:D2}.example"), Template($"x{i:D2}.example"), i % 3 == 0 ? EntryKind.Negative : EntryKind.Positive, 60);
        }

        Assert.True(cache.Bytes <= size * 10L);
        Assert.Equal(10, cache.PositiveCount + cache.NegativeCount);
    }

    [Fact]
    public void Answers_of_many_sizes_keep_the_native_memory_within_the_budget_and_an_emptied_cache_gives_it_back()
    {
        const long budget = 1 << 20;
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 100_000, MaxBytes = budget, StaleWindow = TimeSpan.Zero }, _time);
        for (int i = 0; i < 20_000; i++)
        {
            string name = $"n{i}.example";
            cache.Insert(Key(name), TestAnswers.ARecords(name, 1 + (i * 7 % 60), r => [192, 0, 2, (byte)r]), EntryKind.Positive, 30);
            Assert.InRange(cache.ChunkBytes, 0, budget);
            Assert.InRange(cache.Bytes, 0, cache.ChunkBytes);
        }

        Assert.True(cache.PositiveCount > 100, $"only {cache.PositiveCount} answers fit in {budget} bytes");
        cache.Reconfigure(cache.Options with { MaxBytes = budget / 4 });
        Assert.InRange(cache.ChunkBytes, 0, budget / 4);
        Assert.InRange(cache.Bytes, 0, budget / 4);
        Assert.True(cache.PositiveCount > 0, "shrinking the budget emptied the cache");

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(cache.PositiveCount, cache.SweepExpired());
        Assert.Equal(0, cache.ChunkBytes);
        Assert.Equal(0, cache.Bytes);
    }

    [Fact]
    public void The_clock_hand_stays_on_block_boundaries_when_its_chunk_is_carved_for_another_size()
    {
        // One chunk: small answers fill it and the hand stops inside it, the chunk empties and is carved for answers
        // of another size, and the hand walks on from where it was.
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 100_000, MaxBytes = 1 << 17, StaleWindow = TimeSpan.Zero }, _time);
        for (int i = 0; i < 1_500; i++)
        {
            cache.Insert(Key($"s{i}.example"), TestAnswers.ARecords($"s{i}.example", 1, r => [192, 0, 2, (byte)r]), EntryKind.Positive, 10);
        }

        long evictedSmall = cache.Evictions(EntryKind.Positive);
        Assert.True(evictedSmall > 0);
        _time.Advance(TimeSpan.FromSeconds(11));
        cache.SweepExpired();
        for (int i = 0; i < 1_500; i++)
        {
            cache.Insert(Key($"b{i}.example"), TestAnswers.ARecords($"b{i}.example", 9, r => [192, 0, 2, (byte)r]), EntryKind.Positive, 300);
        }

        int served = 0;
        for (int i = 0; i < 1_500; i++)
        {
            if (cache.TryGetFresh(Key($"b{i}.example"), _time.GetTimestamp(), out CacheEntry entry))
            {
                Assert.Equal(9, entry.Template.AnswerCount);
                served++;
            }
        }

        Assert.Equal(cache.PositiveCount, served);
        Assert.True(cache.Evictions(EntryKind.Positive) - evictedSmall > 1_000);
    }

    [Fact]
    public void An_entry_read_before_its_memory_was_given_back_and_reused_serves_nothing()
    {
        var cache = new DnsCache(new CacheOptions { StaleWindow = TimeSpan.Zero, MaxFailureTtl = TimeSpan.FromSeconds(1) }, _time);
        cache.Insert(Key("a.example"), Template("a.example"), EntryKind.Positive, 5);
        Assert.True(cache.TryGetFresh(Key("a.example"), _time.GetTimestamp(), out CacheEntry held));

        // a's chunk empties and goes back to the kernel (its memory reads as zeros), then is carved again for b, whose
        // record lands where a's was, with the same record version a had: only the chunk's generation tells them apart.
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, cache.SweepExpired());
        cache.Insert(Key("b.example"), Template("b.example"), EntryKind.Positive, 300);

        byte[] query = Wire.Query("a.example");
        QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info);
        Assert.Equal(-1, held.TryWrite(query, info, 0, 512, new byte[512]));
        Assert.False(held.TryCopyTemplate(out _));
        Assert.True(cache.TryGetFresh(Key("b.example"), _time.GetTimestamp(), out _));
    }

    [Theory]
    [InlineData(1, 1u)]
    [InlineData(2, 2u)]
    [InlineData(4, 8u)]
    [InlineData(6, 30u)]
    [InlineData(40, 30u)]
    public void Failure_ttl_backs_off_to_the_bound(int streak, uint expected) =>
        Assert.Equal(expected, new CacheOptions().FailureTtl(streak));
}

public class DnsCacheReconfigureTests
{
    [Fact]
    public void Shrinking_the_limits_evicts_down_to_them_and_keeps_the_cache_usable()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var cache = new DnsCache(new CacheOptions { PositiveEntries = 100 }, time);
        ResponseTemplate template = ResponseTemplateBuilder.Build(Wire.Name("a.example"), 1, 1, 0, false, [], 60)!;
        for (int i = 0; i < 100; i++)
        {
            cache.Insert([.. Wire.Name($"n{i}.example"), 0, 1, 0, 1, 0], template, EntryKind.Positive, 60);
        }

        cache.Reconfigure(new CacheOptions { PositiveEntries = 10 });
        Assert.Equal(10, cache.PositiveCount);
        Assert.Equal(90, cache.Evictions(EntryKind.Positive));

        for (int i = 0; i < 20; i++)
        {
            cache.Insert([.. Wire.Name($"m{i}.example"), 0, 1, 0, 1, 0], template, EntryKind.Positive, 60);
        }

        Assert.Equal(10, cache.PositiveCount);
        Assert.True(cache.TryGetFresh([.. Wire.Name("m19.example"), 0, 1, 0, 1, 0], time.GetTimestamp(), out _));
    }
}

public class CacheSnapshotTests
{
    private static byte[] Key(string name) => [.. Wire.Name(name), 0, 1, 0, 1, 0];

    private static ResponseTemplate Template(string name, uint ttl)
    {
        byte[] message = new Wire().Header(1, 0x8180, 1, 1, 0, 0).Question(name).Record(name, 1, ttl, [192, 0, 2, 9]).ToArray();
        Assert.True(ResponseReader.TryRead(message, out DnsResponseMessage response));
        return ResponseClassifier.Classify(response, Wire.Name(name), TtlPolicy.Default)!.Template;
    }

    [Fact]
    public void Autopath_answers_are_left_out_of_a_snapshot_and_the_rest_loads()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var source = new DnsCache(new CacheOptions(), time);
        source.Insert(Key("api.example"), Template("api.example", 600), EntryKind.Positive, 600);
        byte[] autopath = new byte[Key("api.example").Length + NodeDns.Protocol.CacheKey.AutopathLength];
        Key("api.example").CopyTo(autopath, 0);
        NodeDns.Protocol.CacheKey.WriteAutopath(autopath, Key("api.example").Length, searchList: 7);
        source.Insert(autopath, Template("api.example", 600), EntryKind.Positive, 600);
        Assert.True(NodeDns.Protocol.CacheKey.IsAutopath(autopath));
        Assert.False(NodeDns.Protocol.CacheKey.IsAutopath(Key("api.example")));
        using var stream = new MemoryStream();
        CacheSnapshot.Save(source, stream, DateTimeOffset.UnixEpoch);

        var target = new DnsCache(new CacheOptions(), time);
        stream.Position = 0;
        Assert.Equal(1, CacheSnapshot.Load(target, stream, DateTimeOffset.UnixEpoch, _ => NodeDns.Protocol.ZoneId.Root, out string? problem));
        Assert.Null(problem);
    }

    [Fact]
    public void A_saved_cache_loads_with_elapsed_time_counted_and_expired_entries_dropped()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var source = new DnsCache(new CacheOptions(), time);
        source.Insert(Key("long.example"), Template("long.example", 600), EntryKind.Positive, 600);
        source.Insert(Key("short.example"), Template("short.example", 20), EntryKind.Positive, 20);
        source.Insert(Key("neg.example"), Template("neg.example", 300), EntryKind.Negative, 300);
        var saved = DateTimeOffset.UnixEpoch.AddDays(20000);
        using var stream = new MemoryStream();
        CacheSnapshot.Save(source, stream, saved);

        var target = new DnsCache(new CacheOptions(), time);
        stream.Position = 0;
        Assert.Equal(2, CacheSnapshot.Load(target, stream, saved.AddSeconds(30), _ => NodeDns.Protocol.ZoneId.Root, out string? problem));
        Assert.Null(problem);
        Assert.True(target.TryGetFresh(Key("long.example"), time.GetTimestamp(), out CacheEntry entry));
        Assert.Equal(570u, entry.Ttl);
        Assert.Equal(1, target.NegativeCount);
        Assert.False(target.TryGetFresh(Key("short.example"), time.GetTimestamp(), out _));

        byte[] query = Wire.Query("LONG.example", id: 77);
        QueryParser.Parse(query, new byte[QueryParser.MaxKeyLength], out QueryInfo info);
        byte[] response = new byte[512];
        int length = entry.Template.Write(query, info, 0, 512, response);
        Assert.True(ResponseReader.TryRead(response.AsSpan(0, length), out DnsResponseMessage served));
        Assert.Equal(570u, served.ToRecords()[0].Ttl);
        Assert.Equal([192, 0, 2, 9], served.ToRecords()[0].Data);
    }

    [Theory]
    [InlineData(0)] // empty file
    [InlineData(5)] // cut in the magic
    [InlineData(40)] // cut inside an entry
    public void A_truncated_or_foreign_snapshot_is_rejected_whole(int keep)
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var source = new DnsCache(new CacheOptions(), time);
        source.Insert(Key("a.example"), Template("a.example", 600), EntryKind.Positive, 600);
        using var full = new MemoryStream();
        CacheSnapshot.Save(source, full, DateTimeOffset.UnixEpoch);

        var target = new DnsCache(new CacheOptions(), time);
        Assert.Equal(0, CacheSnapshot.Load(target, new MemoryStream(full.ToArray()[..keep]), DateTimeOffset.UnixEpoch, _ => NodeDns.Protocol.ZoneId.Root, out string? problem));
        Assert.NotNull(problem);
        Assert.Equal(0, target.PositiveCount);
    }

    [Fact]
    public void A_snapshot_whose_answer_does_not_match_its_key_is_rejected()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var source = new DnsCache(new CacheOptions(), time);
        source.Insert(Key("victim.example"), Template("other.example", 600), EntryKind.Positive, 600); // a poisoned pairing
        using var stream = new MemoryStream();
        CacheSnapshot.Save(source, stream, DateTimeOffset.UnixEpoch);
        stream.Position = 0;
        Assert.Equal(0, CacheSnapshot.Load(new DnsCache(new CacheOptions(), time), stream, DateTimeOffset.UnixEpoch, _ => NodeDns.Protocol.ZoneId.Root, out string? problem));
        Assert.Contains("malformed", problem, StringComparison.Ordinal);
    }
}
