using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

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

    public static byte[] Json(TopReport report) => JsonSerializer.SerializeToUtf8Bytes(report, TopJson.Default.TopReport);
}

/// <summary>The <c>/debug/top</c> document: written by <see cref="TopView"/>, read by <c>nodedns top</c>.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, WriteIndented = true)]
[JsonSerializable(typeof(TopReport))]
internal sealed partial class TopJson : JsonSerializerContext;
