using System.Net;
using System.Text.Json;

namespace NodeDns.Daemon.Operations;

/// <summary>
/// <c>GET /debug/top</c>: the top view as JSON. Which names a pod asks for is private, so it answers only a peer on the
/// node itself (a loopback address: <c>kubectl exec ... nodedns top</c>); anyone else — another pod, Prometheus reaching
/// the metrics port — gets 403.
/// </summary>
public static class TopView
{
    public const string Path = "/debug/top";

    public static HttpReply Reply(PodInsight? insight, IPAddress peer)
    {
        if (!IPAddress.IsLoopback(peer.IsIPv4MappedToIPv6 ? peer.MapToIPv4() : peer))
        {
            return HttpReply.Text(403, "forbidden: /debug/top answers only the node itself (a loopback peer)\n");
        }

        return insight is null
            ? HttpReply.Text(404, "the top view needs the pod watch (--pod-watch on)\n")
            : new HttpReply(200, "application/json", Json(insight.Top.Report()));
    }

    public static byte[] Json(TopReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteNumber("windowSeconds", report.WindowSeconds);
            json.WriteNumber("sampleEvery", report.SampleEvery);
            json.WriteStartArray("clients");
            foreach (TopClient client in report.Clients)
            {
                json.WriteStartObject();
                json.WriteString("client", client.Client);
                json.WriteString("namespace", client.Namespace);
                json.WriteString("pod", client.Pod);
                json.WriteString("address", client.Address);
                json.WriteNumber("queries", client.Queries);
                json.WriteNumber("nxdomain", client.NxDomain);
                json.WriteNumber("misses", client.Misses);
                json.WriteNumber("expansionNxPerSuccess", Math.Round(client.ExpansionNxPerSuccess, 2));
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteStartArray("names");
            foreach (TopName name in report.Names)
            {
                json.WriteStartObject();
                json.WriteString("name", name.Name);
                json.WriteNumber("queries", name.Queries);
                json.WriteNumber("nxdomain", name.NxDomain);
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return stream.ToArray();
    }
}
