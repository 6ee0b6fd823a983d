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
            Path.Combine(Root, "deploy", "monitoring"));
        Assert.True(result.ExitCode == 0, result.Output + result.Error);
    }

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
