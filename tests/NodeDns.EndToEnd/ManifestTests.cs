using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// The Kubernetes manifests under deploy/ validate against the Kubernetes and Prometheus Operator schemas, and the
/// validator itself rejects the faulty reference manifests in tests/fixtures with a message naming each fault.
/// </summary>
public sealed partial class ManifestTests
{
    private static readonly string Root = NodeDnsProcess.RepositoryRoot();
    private static readonly string References = Path.Combine(Root, "tests", "fixtures", "k8s-manifests");

    private static Task<ToolResult> ValidateAsync(params string[] paths) =>
        Tools.RunAsync("node", [Path.Combine(Root, "deploy", "validate", "validate.mjs"), .. paths]);

    [Fact]
    public async Task Our_manifests_are_valid()
    {
        ToolResult result = await ValidateAsync(Path.Combine(Root, "deploy", "base"), Path.Combine(Root, "deploy", "overlays", "no-node-setup"),
            Path.Combine(Root, "deploy", "overlays", "cilium-lrp"), Path.Combine(Root, "deploy", "monitoring"));
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
    }

    [Theory]
    [InlineData("base")]
    [InlineData("overlays/no-node-setup")]
    [InlineData("overlays/cilium-lrp")]
    [InlineData("monitoring")]
    public async Task Real_kubectl_kustomize_renders_each_kustomization_to_valid_manifests(string kustomization)
    {
        (string file, _) = await KustomizeAsync(kustomization);
        ToolResult result = await ValidateAsync(file);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
    }

    [Fact]
    public async Task The_cilium_overlay_runs_an_ordinary_pod_that_its_redirect_policy_selects()
    {
        (_, Manifests rendered) = await KustomizeAsync("overlays/cilium-lrp");
        JsonObject daemonSet = rendered.Single("DaemonSet");
        JsonObject podSpec = daemonSet["spec"]!["template"]!["spec"]!.AsObject();
        JsonObject policy = rendered.Single("CiliumLocalRedirectPolicy");

        Assert.False((bool?)podSpec["hostNetwork"] ?? false); // a redirect backend must have its own pod IP
        Assert.Equal(["NET_BIND_SERVICE"], rendered.Capabilities);
        Assert.Equal(["config", "state"], rendered.Volumes.Order());
        Assert.Equal((string?)daemonSet["metadata"]!["namespace"], (string?)policy["metadata"]!["namespace"]);
        foreach ((string key, JsonNode? value) in policy["spec"]!["redirectBackend"]!["localEndpointSelector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal((string?)value, (string?)daemonSet["spec"]!["template"]!["metadata"]!["labels"]![key]);
        }

        var containerPorts = rendered.Container["ports"]!.AsArray().Select(p => $"{p!["name"]}:{p["containerPort"]}/{p["protocol"]}").ToHashSet();
        foreach (JsonNode? port in policy["spec"]!["redirectBackend"]!["toPorts"]!.AsArray())
        {
            Assert.Contains($"{port!["name"]}:{port["port"]}/{port["protocol"]}", containerPorts);
        }

        Assert.Equal("kube-dns", (string?)policy["spec"]!["redirectFrontend"]!["serviceMatcher"]!["serviceName"]);
        Assert.True((bool?)policy["spec"]!["skipRedirectFromBackend"]); // NodeDns's own queries reach kube-dns itself

        string settings = await rendered.EffectiveSettingsAsync();
        Assert.Contains("--listen=0.0.0.0:53\n", settings, StringComparison.Ordinal);
        Assert.Contains("--setup-interface=false", settings, StringComparison.Ordinal);
        Assert.Contains("--handoff-socket=\n", settings, StringComparison.Ordinal); // each pod has its own sockets: nothing to hand off
        // Readiness turns 503 at SIGTERM while DNS is still answered (ObservabilityTests.Lameduck_says_not_ready_at_once_keeps_answering_then_exits_0);
        // the probe must notice within the lameduck.
        JsonNode probe = rendered.Container["readinessProbe"]!;
        long noticedWithin = (long)probe["periodSeconds"]! * (long)probe["failureThreshold"]!;
        Assert.InRange(noticedWithin, 1, 4);
        Assert.Contains("--lameduck=5s", settings, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("network-policy.md", 4)]
    public async Task The_yaml_in_the_docs_is_valid(string page, int blocks)
    {
        string text = await File.ReadAllTextAsync(Path.Combine(Root, "docs", page));
        string[] yaml = [.. YamlBlock().Matches(text).Select(m => m.Groups[1].Value)];
        Assert.Equal(blocks, yaml.Length);
        string file = Path.Combine(Directory.CreateTempSubdirectory("nodedns-docs-").FullName, "blocks.yaml");
        await File.WriteAllTextAsync(file, string.Join("---\n", yaml));
        ToolResult result = await ValidateAsync(file);
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
    }

    [GeneratedRegex(@"```yaml\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex YamlBlock();

    private static Task<(string File, Manifests Rendered)> KustomizeAsync(string kustomization) =>
        Manifests.RenderAsync("kubectl", ["kustomize", Path.Combine(Root, "deploy", kustomization)]);

    [Theory]
    [InlineData("good-misc.yaml")]
    [InlineData("nodelocaldns.yaml")]
    [InlineData("kustomize-ok")]
    public async Task Valid_reference_manifests_pass(string name)
    {
        ToolResult result = await ValidateAsync(Path.Combine(References, name));
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
    }

    [Theory]
    [InlineData("bad-misspelled-field.yaml", "unknown field 'hostNetwrok'")]
    [InlineData("bad-wrong-type.yaml", "containerPort must be integer")]
    [InlineData("bad-missing-required.yaml", "must have required property name")]
    [InlineData("bad-replicas-type.yaml", "spec/replicas must be integer")]
    [InlineData("bad-servicemonitor.yaml", "spec must have required property endpoints")]
    [InlineData("kustomize-missing", "resources names 'daemonset.yaml', which does not exist")]
    [InlineData("kustomize-badpatch", "unknown field 'resoruces'")]
    [InlineData("kustomize-badpatch", "unknown op 'upsert'")]
    [InlineData("bad-misc.yaml", "unknown apiVersion/kind 'apps/v1/Deploymnet'")]
    [InlineData("bad-misc.yaml", "'extensions/v1beta1' was removed")]
    [InlineData("bad-misc.yaml", "prometheus.io~1scrape must be string")]
    [InlineData("bad-misc.yaml", "does not match the template's labels")]
    [InlineData("bad-misc.yaml", "mounts volume 'config', which is not in spec.template.spec.volumes")]
    [InlineData("bad-misc.yaml", "unknown field 'intreval'")]
    [InlineData("bad-misc.yaml", "must have required property expr")]
    [InlineData("bad-misc.yaml", "metadata.name 'Agent_Config' is not a valid name")]
    [InlineData("bad-misc.yaml", "Map keys must be unique")]
    [InlineData("bad-misc.yaml", "Kustomization: unknown field 'resource'")]
    [InlineData("bad-misc.yaml", "missing apiVersion or kind")]
    public async Task Faulty_reference_manifests_are_rejected_naming_the_fault(string name, string fault)
    {
        ToolResult result = await ValidateAsync(Path.Combine(References, name));
        Assert.Equal(1, result.ExitCode);
        Assert.Contains(fault, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_shipped_config_passes_check_config()
    {
        string configMap = await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "base", "configmap.yaml"));
        string json = string.Join('\n', JsonBlock().Match(configMap).Groups[1].Value.Split('\n').Select(l => l.Length >= 4 ? l[4..] : l));
        string file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, json);
        try
        {
            ToolResult result = await NodeDnsProcess.RunToExitAsync(["check-config", file]);
            Assert.True(result.ExitCode == 0, result.Output + result.Error);
            Assert.Contains("169.254.20.10:53", result.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"nodedns\.json: \|\n((?:    .*\n?)+)")]
    private static partial Regex JsonBlock();
}
