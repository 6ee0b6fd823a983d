using System.Diagnostics;
using System.Net;
using System.Text;
using DnsClient;

namespace NodeDns.EndToEnd.Support;

/// <summary>
/// A real authoritative server (NSD, from apt) on 127.0.0.1 serving generated zones: <c>example.test</c>,
/// <c>cluster.local</c> and <c>compress.test</c> (<see cref="CompressionZone"/>). Shared by the tests of a class through xunit's class fixture.
/// </summary>
public sealed class NsdUpstream : IAsyncLifetime
{
    public const int BigTxtRecords = 40;
    private readonly string _dir = Directory.CreateTempSubdirectory("nodedns-nsd-").FullName;
    private readonly NetworkNamespace? _namespace;
    private Process? _process;

    public NsdUpstream()
    {
    }

    private NsdUpstream(NetworkNamespace ns, IPEndPoint? endPoint)
    {
        _namespace = ns;
        EndPoint = endPoint ?? EndPoint;
    }

    /// <summary>NSD inside <paramref name="ns"/>, on <paramref name="endPoint"/> (default 127.0.0.1 and a free port).</summary>
    public static async Task<NsdUpstream> StartInAsync(NetworkNamespace ns, IPEndPoint? endPoint = null)
    {
        var nsd = new NsdUpstream(ns, endPoint);
        await nsd.InitializeAsync();
        return nsd;
    }

    public IPEndPoint EndPoint { get; } = new(IPAddress.Loopback, Ports.Free());

    private string Address => EndPoint.Address.ToString();

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(Path.Combine(_dir, "example.test.zone"), ExampleZone());
        await File.WriteAllTextAsync(Path.Combine(_dir, "cluster.local.zone"), ClusterZone());
        await File.WriteAllTextAsync(Path.Combine(_dir, "compress.test.zone"), CompressionZone.ZoneFile());
        await File.WriteAllTextAsync(Path.Combine(_dir, "nsd.conf"), $"""
            server:
              ip-address: {Address}@{EndPoint.Port}
              port: {EndPoint.Port}
              username: ""
              chroot: ""
              zonesdir: "{_dir}"
              database: ""
              zonelistfile: "{_dir}/zone.list"
              pidfile: "{_dir}/nsd.pid"
              xfrdfile: "{_dir}/xfrd.state"
              xfrdir: "{_dir}"
              logfile: "{_dir}/nsd.log"
              server-count: 1
              verbosity: 1
              rrl-ratelimit: 0
              rrl-whitelist-ratelimit: 0
            remote-control:
              control-enable: no
            zone:
              name: example.test
              zonefile: example.test.zone
            zone:
              name: cluster.local
              zonefile: cluster.local.zone
            zone:
              name: {CompressionZone.Origin}
              zonefile: compress.test.zone

            """);
        string[] command = [Tools.Require("nsd"), "-d", "-c", Path.Combine(_dir, "nsd.conf")];
        var info = new ProcessStartInfo(_namespace is null ? command[0] : Tools.Require("ip"),
            _namespace is null ? command[1..] : ["netns", "exec", _namespace.Name, .. command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(info)!;
        if (_namespace is not null)
        {
            await WaitInNamespaceAsync(_namespace);
            return;
        }

        var client = new LookupClient(new LookupClientOptions(new NameServer(EndPoint)) { UseCache = false, Retries = 0, Timeout = TimeSpan.FromMilliseconds(200) });
        for (int attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                IDnsQueryResponse response = await client.QueryAsync("example.test", QueryType.SOA);
                if (response.Answers.Count > 0)
                {
                    return;
                }
            }
            catch (DnsResponseException)
            {
            }

            if (_process.HasExited)
            {
                break;
            }

            await Task.Delay(100);
        }

        string log = File.Exists(Path.Combine(_dir, "nsd.log")) ? await File.ReadAllTextAsync(Path.Combine(_dir, "nsd.log")) : "";
        throw new InvalidOperationException($"nsd did not start: {log}{await _process.StandardError.ReadToEndAsync()}");
    }

    private async Task WaitInNamespaceAsync(NetworkNamespace ns)
    {
        for (int attempt = 0; attempt < 100 && !_process!.HasExited; attempt++)
        {
            ToolResult soa = await ns.ExecAsync("dig", $"@{Address}", "-p", EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "example.test", "SOA", "+short", "+tries=1", "+time=1");
            if (soa.Output.Contains("hostmaster", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"nsd did not start in namespace {ns.Name}");
    }

    private static string ExampleZone()
    {
        var zone = new StringBuilder("""
            $ORIGIN example.test.
            $TTL 300
            @      30 IN SOA ns1 hostmaster 1 3600 600 86400 60
            @         IN NS ns1
            ns1       IN A 127.0.0.1
            www       IN A 192.0.2.1
            www       IN AAAA 2001:db8::1
            alias     IN CNAME www
            c1        IN CNAME c2
            c2        IN CNAME www
            short  2  IN A 192.0.2.2

            """);
        for (int i = 0; i < BigTxtRecords; i++)
        {
            zone.AppendLine($"big IN TXT \"record {i:D2} padding padding padding padding padding padding\"");
        }

        return zone.ToString();
    }

    private static string ClusterZone() => """
        $ORIGIN cluster.local.
        $TTL 30
        @ IN SOA ns.dns hostmaster 1 7200 1800 86400 5
        @ IN NS ns.dns
        ns.dns IN A 127.0.0.1
        kubernetes.default.svc IN A 10.96.0.1
        kube-dns.kube-system.svc IN A 10.96.0.10
        redis.redis.svc IN A 10.0.0.1

        """;

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(5000);
        }

        _process?.Dispose();
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }
}
