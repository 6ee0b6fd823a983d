using System.Text;

namespace NodeDns.EndToEnd.Support;

/// <summary>
/// The zone <c>compress.test</c>: names with repeated, alternating and equal-length labels, CNAME chains, MX and
/// SRV records whose targets repeat their owners' labels — the names that broke name compression (issue 13), as
/// Kubernetes makes them every day (a Service named like its namespace: <c>redis.redis.svc</c>).
/// </summary>
public static class CompressionZone
{
    public const string Origin = "compress.test";

    private static readonly string[] Words =
    [
        "v", "a", "b", "ab", "taq", "redis", "kafka", "vault", "minio", "abc", "def", "x1", "nginx",
        "mysql", "etcd", "api", "web", "db", "svc", "local", "cluster", "default", "kube", "dns", "ns", "test",
    ];

    /// <summary>One question to ask and the address its A answer ends in (null for other types).</summary>
    public sealed record Question(string Name, DnsClient.QueryType Type, string? Address);

    /// <summary>Questions in the order that stresses a reused encoder: each short name right before its longer twins.</summary>
    public static IReadOnlyList<Question> Questions()
    {
        var questions = new List<Question>();
        for (int i = 0; i < Words.Length; i++)
        {
            string w = Words[i];
            string u = Words[(i + 1) % Words.Length];
            string address = $"10.1.{i}.";
            questions.AddRange(
            [
                new($"{w}.{Origin}", DnsClient.QueryType.A, address + "1"),
                new($"{w}.{w}.{Origin}", DnsClient.QueryType.A, address + "2"),
                new($"{w}.{w}.{w}.{Origin}", DnsClient.QueryType.A, address + "3"),
                new($"{w}.{u}.{Origin}", DnsClient.QueryType.A, address + "4"),
                new($"{w}.{u}.{w}.{u}.{Origin}", DnsClient.QueryType.A, address + "5"),
                new($"{u}.{w}.{u}.{w}.{u}.{Origin}", DnsClient.QueryType.A, address + "6"),
                new($"c.{w}.{Origin}", DnsClient.QueryType.A, address + "2"),
                new($"c.c.{w}.{Origin}", DnsClient.QueryType.A, address + "2"),
                new($"{w}.{w}.{Origin}", DnsClient.QueryType.MX, null),
                new($"_{w}._tcp.{w}.{Origin}", DnsClient.QueryType.SRV, null),
                new($"{w}.{w}.{Origin}", DnsClient.QueryType.AAAA, null),
                new($"{w.ToUpperInvariant()}.{w}.{Origin}", DnsClient.QueryType.A, address + "2"),
                new($"{w}.{w}.{w}.{w}.{Origin}", DnsClient.QueryType.A, null), // NXDOMAIN: SOA in authority
            ]);
        }

        return questions;
    }

    public static string ZoneFile()
    {
        var zone = new StringBuilder($"""
            $ORIGIN {Origin}.
            $TTL 300
            @ IN SOA ns.ns.{Origin}. host.master.{Origin}. 1 3600 600 86400 60
            @ IN NS ns.ns.{Origin}.
            ns.ns IN A 127.0.0.1

            """);
        for (int i = 0; i < Words.Length; i++)
        {
            string w = Words[i];
            string u = Words[(i + 1) % Words.Length];
            string address = $"10.1.{i}.";
            zone.AppendLine($"{w} IN A {address}1");
            zone.AppendLine($"{w}.{w} IN A {address}2");
            zone.AppendLine($"{w}.{w} IN AAAA 2001:db8::{i + 1}");
            zone.AppendLine($"{w}.{w}.{w} IN A {address}3");
            zone.AppendLine($"{w}.{u} IN A {address}4");
            zone.AppendLine($"{w}.{u}.{w}.{u} IN A {address}5");
            zone.AppendLine($"{u}.{w}.{u}.{w}.{u} IN A {address}6");
            zone.AppendLine($"c.{w} IN CNAME {w}.{w}");
            zone.AppendLine($"c.c.{w} IN CNAME c.{w}");
            zone.AppendLine($"{w}.{w} IN MX 10 {w}.{w}.{w}");
            zone.AppendLine($"{w}.{w} IN MX 20 {w}");
            zone.AppendLine($"_{w}._tcp.{w} IN SRV 0 5 80 {w}.{w}");
        }

        return zone.ToString();
    }
}
