using System.Text.Json;
using System.Text.Json.Serialization;

namespace NodeDns.Daemon.Kubernetes;

// The few fields of the Kubernetes API's JSON that the pod watch reads (core/v1 Pod, PodList, Status, watch events).
// Deliberately not the client library's models: those bring every API type into the Native AOT image (+19 MB binary,
// +20 MB RSS at start on every node, watch or not).

public sealed record ApiObjectMeta(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("uid")] string? Uid,
    [property: JsonPropertyName("resourceVersion")] string? ResourceVersion);

public sealed record ApiListMeta([property: JsonPropertyName("resourceVersion")] string? ResourceVersion);

public sealed record ApiPodDnsOption([property: JsonPropertyName("name")] string? Name, [property: JsonPropertyName("value")] string? Value);

public sealed record ApiPodDnsConfig(
    [property: JsonPropertyName("searches")] IReadOnlyList<string>? Searches,
    [property: JsonPropertyName("nameservers")] IReadOnlyList<string>? Nameservers,
    [property: JsonPropertyName("options")] IReadOnlyList<ApiPodDnsOption>? Options);

public sealed record ApiPodSpec(
    [property: JsonPropertyName("dnsPolicy")] string? DnsPolicy,
    [property: JsonPropertyName("hostNetwork")] bool? HostNetwork,
    [property: JsonPropertyName("dnsConfig")] ApiPodDnsConfig? DnsConfig);

public sealed record ApiPodIp([property: JsonPropertyName("ip")] string? Ip);

public sealed record ApiPodStatus(
    [property: JsonPropertyName("podIP")] string? PodIp,
    [property: JsonPropertyName("podIPs")] IReadOnlyList<ApiPodIp>? PodIps);

public sealed record ApiPod(
    [property: JsonPropertyName("metadata")] ApiObjectMeta? Metadata,
    [property: JsonPropertyName("spec")] ApiPodSpec? Spec,
    [property: JsonPropertyName("status")] ApiPodStatus? Status);

public sealed record ApiPodList(
    [property: JsonPropertyName("metadata")] ApiListMeta? Metadata,
    [property: JsonPropertyName("items")] IReadOnlyList<ApiPod>? Items);

public sealed record ApiStatus(
    [property: JsonPropertyName("code")] int? Code,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("message")] string? Message);

public sealed record ApiWatchEvent([property: JsonPropertyName("type")] string? Type, [property: JsonPropertyName("object")] JsonElement Object);

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = false)]
[JsonSerializable(typeof(ApiPodList))]
[JsonSerializable(typeof(ApiPod))]
[JsonSerializable(typeof(ApiStatus))]
[JsonSerializable(typeof(ApiWatchEvent))]
internal sealed partial class ApiJson : JsonSerializerContext;
