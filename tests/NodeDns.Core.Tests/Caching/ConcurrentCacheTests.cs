using NodeDns.Caching;
using NodeDns.Protocol;

namespace NodeDns.Core.Tests.Caching;

/// <summary>
/// Readers on other threads serve from the cache while one writer replaces, evicts, sweeps and reconfigures it as fast as
/// it can, with a budget of a few chunks so blocks are reused and chunks carved anew for other sizes all the time. Every
/// answer a reader manages to serve must be one stored for the name it asked — a torn or recycled record served as a
/// hit would show as another name's number — and must read back through the strict parser.
/// </summary>
public class ConcurrentCacheTests
{
    private const int Names = 400;

    [Fact]
    public async Task Readers_racing_the_writer_only_ever_serve_an_answer_stored_for_their_name()
    {
        var options = new CacheOptions { PositiveEntries = 300, NegativeEntries = 100, FailureEntries = 100, MaxBytes = 3 << 17 };
        var cache = new DnsCache(options, TimeProvider.System);
        ResponseTemplate[][] templates = [.. Enumerable.Range(0, Names).Select(n => Enumerable.Range(1, 6).Select(r => Template(n, r * r)).ToArray())];
        int writerDone = 0;
        long served = 0;
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var readers = Enumerable.Range(0, 2).Select(seed => Task.Factory.StartNew(() =>
        {
            var random = new Random(seed);
            byte[] buffer = new byte[DnsLimits.MaxMessageLength];
            byte[] keyBuffer = new byte[QueryParser.MaxKeyLength];
            while (Volatile.Read(ref writerDone) == 0 && failures.IsEmpty)
            {
                int n = random.Next(Names);
                byte[] query = Wire.Query(NameOf(n), edns: false);
                QueryParser.Parse(query, keyBuffer, out QueryInfo info);
                if (!cache.TryGetAny(keyBuffer.AsSpan(0, info.KeyLength), out CacheEntry entry))
                {
                    continue;
                }

                CacheEntry serving = entry.Stale ?? entry;
                int length = serving.TryWrite(query, info, 0, DnsLimits.MaxMessageLength, buffer);
                if (length < 0)
                {
                    continue;
                }

                var message = StrictDnsMessage.Parse(buffer[..length]);
                if (message.Records.Count == 0 || message.Records.Any(r => r.Data[0] != (n & 0xFF) || r.Data[1] != (n >> 8)))
                {
                    failures.Enqueue($"{NameOf(n)} served {string.Join(",", message.Records.Select(r => $"{r.Data[0]}.{r.Data[1]}"))}");
                }

                Interlocked.Increment(ref served);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

        var writerRandom = new Random(99);
        for (int step = 0; step < 200_000 && failures.IsEmpty; step++)
        {
            int n = writerRandom.Next(Names);
            byte[] key = Wire.Name(NameOf(n)).Concat(new byte[] { 0, 1, 0, 1, 0 }).ToArray();
            ResponseTemplate template = templates[n][writerRandom.Next(6)];
            switch (writerRandom.Next(20))
            {
                case 0:
                    cache.Reconfigure(options with { MaxBytes = (long)writerRandom.Next(2, 6) << 17 });
                    break;
                case 1:
                    cache.SweepExpired();
                    break;
                case 2 or 3:
                    CacheEntry? stale = cache.TryGetAny(key, out CacheEntry previous) && previous.IsData ? previous : null;
                    cache.Insert(key, templates[n][0], EntryKind.Failure, 1, stale, 1);
                    break;
                default:
                    cache.Insert(key, template, writerRandom.Next(4) == 0 ? EntryKind.Negative : EntryKind.Positive, (uint)writerRandom.Next(1, 3));
                    break;
            }
        }

        Volatile.Write(ref writerDone, 1);
        await Task.WhenAll(readers);
        Assert.Empty(failures);
        Assert.True(served > 1000, $"only {served} answers served: the readers did not race the writer");
    }

    private static string NameOf(int n) => $"name{n}.example";

    /// <summary>An answer for name <paramref name="n"/> with <paramref name="records"/> A records, each carrying <paramref name="n"/>.</summary>
    private static ResponseTemplate Template(int n, int records) =>
        TestAnswers.ARecords(NameOf(n), records, r => [(byte)(n & 0xFF), (byte)(n >> 8), (byte)r, 7]);

}
