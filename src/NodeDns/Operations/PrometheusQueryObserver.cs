using System.Net;
using NodeDns.Protocol;
using NodeDns.Serving;
using Prometheus;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// Counts every answered query into CoreDNS's request, response and duration series. The series of a (zone,
/// listener) pair are bound on first use and found by the zone's number, so a query costs array indexing and a few
/// pre-bound increments: no label lookup, no allocation.
/// </summary>
public sealed class PrometheusQueryObserver : IQueryObserver
{
    /// <summary>Query types CoreDNS names in its <c>type</c> label; every other type counts as "other".</summary>
    private static readonly (ushort Type, string Name)[] NamedTypes =
    [
        (1, "A"), (28, "AAAA"), (5, "CNAME"), (12, "PTR"), (33, "SRV"), (16, "TXT"), (15, "MX"), (2, "NS"), (6, "SOA"),
        (65, "HTTPS"), (64, "SVCB"), (255, "ANY"), (257, "CAA"), (43, "DS"), (48, "DNSKEY"), (35, "NAPTR"), (39, "DNAME"),
    ];

    private static readonly string[] TypeNames = [.. NamedTypes.Select(t => t.Name), "other"];
    private static readonly string[] Sources = ["", "cache", "forward"];

    private readonly DnsMetrics _metrics;
    private readonly string[] _servers;
    private readonly TimeProvider _time;

    /// <summary>Series per zone (by <see cref="ZoneId"/>) and listener, bound on first use; grown under a lock, read without.</summary>
    private volatile ZoneSeries?[][] _byZone = [];
    private readonly Lock _growth = new();

    private readonly PodInsight? _insight;

    /// <param name="insight">Per-namespace counts and the top view, when the pods of the node are watched.</param>
    public PrometheusQueryObserver(DnsMetrics metrics, IReadOnlyList<IPEndPoint> listeners, TimeProvider time, PodInsight? insight = null)
    {
        _metrics = metrics;
        _insight = insight;
        _servers = [.. listeners.Select(l => "dns://" + l)];
        _time = time;
    }

    public void Answered(in ClientContext client, ZoneId zone, ReadOnlySpan<byte> name, ushort type, int rcode, AnswerSource source, long receivedAt)
    {
        ZoneSeries series = Series(zone, client.Listener);
        int typeIndex = TypeIndex(type);
        int requestIndex = (((client.OverTcp ? 1 : 0) * 2) + (client.Ipv6 ? 1 : 0)) * TypeNames.Length + typeIndex;
        (series.Requests[requestIndex] ??= series.BindRequest(requestIndex)).Inc();
        int responseIndex = (Math.Min(rcode, ZoneSeries.Rcodes - 1) * Sources.Length) + (int)source;
        (series.Responses[responseIndex] ??= series.BindResponse(responseIndex)).Inc();
        (series.Durations[typeIndex] ??= series.BindDuration(typeIndex)).Observe(_time.GetElapsedTime(receivedAt).TotalSeconds);
        _insight?.Answered(client.Address, name, rcode, source, receivedAt);
    }

    private ZoneSeries Series(ZoneId zone, int listener)
    {
        ZoneSeries?[][] byZone = _byZone;
        if (zone.Value < byZone.Length && byZone[zone.Value][listener] is { } series)
        {
            return series;
        }

        lock (_growth)
        {
            byZone = _byZone;
            if (zone.Value >= byZone.Length)
            {
                ZoneSeries?[][] grown = new ZoneSeries?[zone.Value + 8][];
                for (int i = 0; i < grown.Length; i++)
                {
                    grown[i] = i < byZone.Length ? byZone[i] : new ZoneSeries?[_servers.Length];
                }

                _byZone = byZone = grown;
            }

            return byZone[zone.Value][listener] ??= new ZoneSeries(_metrics, _servers[listener], zone.Name);
        }
    }

    private static int TypeIndex(ushort type)
    {
        for (int i = 0; i < NamedTypes.Length; i++)
        {
            if (NamedTypes[i].Type == type)
            {
                return i;
            }
        }

        return NamedTypes.Length;
    }

    private sealed class ZoneSeries(DnsMetrics metrics, string server, string zone)
    {
        public const int Rcodes = 24;

        public readonly Counter.Child?[] Requests = new Counter.Child?[4 * TypeNames.Length];
        public readonly Counter.Child?[] Responses = new Counter.Child?[Rcodes * Sources.Length];
        public readonly Histogram.Child?[] Durations = new Histogram.Child?[TypeNames.Length];

        public Counter.Child BindRequest(int index)
        {
            int transportAndFamily = index / TypeNames.Length;
            return metrics.Requests.WithLabels(server, zone, "", transportAndFamily >= 2 ? "tcp" : "udp",
                transportAndFamily % 2 == 1 ? "2" : "1", TypeNames[index % TypeNames.Length]);
        }

        public Counter.Child BindResponse(int index) =>
            metrics.Responses.WithLabels(server, zone, "", DnsRcode.Name(index / Sources.Length), Sources[index % Sources.Length]);

        public Histogram.Child BindDuration(int index) => metrics.RequestDuration.WithLabels(server, zone, "", TypeNames[index]);
    }
}
