using System.Net;
using DnsClient;
using DnsClient.Protocol;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// The linux-arm64 binary that <c>deploy/publish.sh</c> cross-compiles runs under user-mode emulation
/// (<c>qemu-aarch64-static</c>, Debian's qemu-user-static) and answers DNS forwarded from a real upstream (NSD).
/// run-tests.sh publishes it (NODEDNS_ARM64_BIN) and unpacks Debian's arm64 libc6 and libssl3, what the runtime
/// image has, into a root for the emulator's library look-ups (NODEDNS_ARM64_ROOT).
/// </summary>
public sealed class MultiArchTests(NsdUpstream nsd) : IClassFixture<NsdUpstream>
{
    [Fact]
    public async Task The_arm64_binary_is_an_aarch64_executable_and_answers_under_qemu()
    {
        string binary = Given("NODEDNS_ARM64_BIN");
        byte[] header = new byte[20];
        await using (FileStream file = File.OpenRead(binary))
        {
            await file.ReadExactlyAsync(header);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), header[..4]);
        Assert.Equal(183, BitConverter.ToUInt16(header, 18)); // e_machine EM_AARCH64

        string[] qemu = [Tools.Require("qemu-aarch64-static"), "-L", Given("NODEDNS_ARM64_ROOT")];
        await using NodeDnsProcess daemon = await NodeDnsProcess.StartUnderAsync(qemu, binary, "serve", "--upstream", nsd.EndPoint.ToString());
        LookupClient client = daemon.Client(timeoutMs: 10_000);

        IDnsQueryResponse miss = await client.QueryAsync("www.example.test", QueryType.A);
        Assert.Equal(IPAddress.Parse("192.0.2.1"), Assert.Single(miss.Answers.ARecords()).Address);
        IDnsQueryResponse hit = await daemon.Client(tcp: true, timeoutMs: 10_000).QueryAsync("c1.example.test", QueryType.A);
        Assert.Equal(["c2.example.test.", "www.example.test."], hit.Answers.CnameRecords().Select(r => r.CanonicalName.Value));

        string metrics = await daemon.ScrapeAsync();
        Assert.True(MetricsText.Value(metrics, "coredns_cache_misses_total") >= 2, metrics);
    }

    private static string Given(string variable)
    {
        string? path = Environment.GetEnvironmentVariable(variable);
        Assert.False(string.IsNullOrEmpty(path), $"{variable} is not set: run ./run-tests.sh, which cross-compiles the arm64 binary and prepares its root");
        Assert.True(File.Exists(path) || Directory.Exists(path), $"{variable}={path} does not exist");
        return path;
    }
}
