using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace NodeDns.EndToEnd.Support;

/// <summary>Rendered Kubernetes manifests (helm template, kubectl kustomize) read into JSON objects for assertions.</summary>
internal sealed class Manifests(IReadOnlyList<JsonObject> documents)
{
    public IReadOnlyList<JsonObject> Documents { get; } = documents;

    public static Manifests Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return new Manifests([.. stream.Documents.Select(d => ToJson(d.RootNode)).OfType<JsonObject>()]);
    }

    /// <summary>Runs a renderer (helm template, kubectl kustomize), which must succeed; its output as a file and parsed.</summary>
    public static async Task<(string File, Manifests Rendered)> RenderAsync(string tool, string[] args)
    {
        ToolResult result = await Tools.RunAsync(tool, args, TimeSpan.FromMinutes(1));
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        string file = Path.Combine(Directory.CreateTempSubdirectory("nodedns-rendered-").FullName, "rendered.yaml");
        await File.WriteAllTextAsync(file, result.Output);
        return (file, Parse(result.Output));
    }

    /// <summary>"Kind/name" of every object.</summary>
    public IEnumerable<string> Names => Documents.Select(d => $"{d["kind"]}/{d["metadata"]?["name"]}");

    public JsonObject Single(string kind) => Documents.Single(d => (string?)d["kind"] == kind);

    public JsonObject? Find(string kind, string name) =>
        Documents.SingleOrDefault(d => (string?)d["kind"] == kind && (string?)d["metadata"]?["name"] == name);

    public JsonObject Container => Single("DaemonSet")["spec"]!["template"]!["spec"]!["containers"]![0]!.AsObject();

    public string[] Args => [.. Container["args"]!.AsArray().Select(a => (string)a!)];

    public string[] Capabilities => [.. Container["securityContext"]!["capabilities"]!["add"]!.AsArray().Select(a => (string)a!)];

    public string[] Volumes => [.. Single("DaemonSet")["spec"]!["template"]!["spec"]!["volumes"]!.AsArray().Select(v => (string)v!["name"]!)];

    /// <summary>nodedns.json of the ConfigMap the DaemonSet mounts.</summary>
    public string ConfigJson
    {
        get
        {
            string configMap = (string)Single("DaemonSet")["spec"]!["template"]!["spec"]!["volumes"]!.AsArray()
                .Single(v => (string)v!["name"]! == "config")!["configMap"]!["name"]!;
            return (string)Find("ConfigMap", configMap)!["data"]!["nodedns.json"]!;
        }
    }

    /// <summary>
    /// What nodedns would run with in this DaemonSet: <c>nodedns check-config FILE --show ARGS</c> with the ConfigMap's
    /// file and the container's arguments, one --option=value per line.
    /// </summary>
    public async Task<string> EffectiveSettingsAsync()
    {
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, ConfigJson);
        try
        {
            string[] args = Args;
            Assert.Equal(["serve", "--config", "/etc/nodedns/nodedns.json"], args[..3]);
            ToolResult result = await NodeDnsProcess.RunToExitAsync(["check-config", file, "--show", .. args[3..]]);
            Assert.True(result.ExitCode == 0, result.Output + result.Error);
            return string.Join('\n', result.Output.Split('\n').Skip(1)); // the first line names the temporary file
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>Equal as data: the same fields and values, whatever the order of fields.</summary>
    public static void AssertSame(JsonNode? expected, JsonNode? actual) =>
        Assert.True(JsonNode.DeepEquals(expected, actual), $"expected {expected?.ToJsonString()}\n but got {actual?.ToJsonString()}");

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c =>
            KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode sequence => new JsonArray([.. sequence.Children.Select(ToJson)]),
        YamlScalarNode scalar when scalar.Style is YamlDotNet.Core.ScalarStyle.Plain => Plain(scalar.Value),
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => null,
    };

    private static JsonNode? Plain(string? value) => value switch
    {
        null or "" or "null" or "~" => null,
        "true" => JsonValue.Create(true),
        "false" => JsonValue.Create(false),
        _ when long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long number) => JsonValue.Create(number),
        _ => JsonValue.Create(value),
    };
}
