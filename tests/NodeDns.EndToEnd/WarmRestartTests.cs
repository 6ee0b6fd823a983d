using DnsClient;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>Warm restarts through the cache snapshot, against the real binary.</summary>
public sealed class WarmRestartTests
{
    [Fact]
    public async Task A_restarted_instance_answers_the_previous_hot_set_from_cache_at_once()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        string snapshot = Path.Combine(Path.GetTempPath(), $"nodedns-{Guid.NewGuid():N}.snapshot");
        string[] names = [.. Enumerable.Range(0, 500).Select(i => $"hot{i}.example")];
        try
        {
            await using (NodeDnsProcess first = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--snapshot", snapshot, "--lameduck", "0s"))
            {
                LookupClient client = first.Client();
                foreach (string name in names)
                {
                    Assert.Single((await client.QueryAsync(name, QueryType.A)).Answers);
                }

                first.Signal(15);
                Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)));
                Assert.Equal(0, first.ExitCode);
            }

            Assert.True(File.Exists(snapshot));
            int upstreamQueries = upstream.Received.Count;
            await using NodeDnsProcess second = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--snapshot", snapshot);
            foreach (string name in names)
            {
                Assert.Single((await second.Client().QueryAsync(name, QueryType.A)).Answers);
            }

            string metrics = await second.ScrapeAsync();
            double hitRatio = MetricsText.Value(metrics, "coredns_cache_hits_total", "type=success") / MetricsText.Value(metrics, "coredns_cache_requests_total");
            Assert.True(hitRatio >= 0.95, $"hit ratio right after the restart: {hitRatio:P1}");
            Assert.Equal(upstreamQueries, upstream.Received.Count);
            Assert.Contains("warm start: loaded 500 cache entries", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(snapshot);
        }
    }

    [Fact]
    public async Task A_corrupt_snapshot_is_ignored_with_a_warning()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        string snapshot = Path.GetTempFileName();
        await File.WriteAllTextAsync(snapshot, "this is not a snapshot");
        try
        {
            await using NodeDnsProcess daemon = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--snapshot", snapshot);
            Assert.Single((await daemon.Client().QueryAsync("fine.example", QueryType.A)).Answers);
            Assert.Contains("ignored: not a NodeDns cache snapshot", daemon.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(snapshot);
        }
    }
}
