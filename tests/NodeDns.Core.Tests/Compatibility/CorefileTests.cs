using NodeDns.Daemon.Compatibility;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Core.Tests;

public class CorefileTests
{
    private const string Reference = """
        cluster.local:53 {
            errors
            cache {
                    success 9984 30
                    denial 9984 5
            }
            reload
            loop
            bind 169.254.20.10 10.96.0.10
            forward . __PILLAR__CLUSTER__DNS__ {
                    force_tcp
            }
            prometheus :9253
            health 169.254.20.10:8080
            }
        in-addr.arpa:53 {
            errors
            cache 30
            reload
            loop
            bind 169.254.20.10 10.96.0.10
            forward . __PILLAR__CLUSTER__DNS__ {
                    force_tcp
            }
            prometheus :9253
            }
        .:53 {
            errors
            cache 30
            reload
            loop
            bind 169.254.20.10 __PILLAR__DNS__SERVER__
            forward . __PILLAR__UPSTREAM__SERVERS__
            prometheus :9253
            }
        """;

    private static Dictionary<OptionSpec, RawValue> Translate(string corefile, List<string>? warnings = null)
    {
        string rendered = PillarRenderer.Render(corefile, ["169.254.20.10"], "10.0.0.53", KubeDnsConfig.Empty, 53, null);
        return CorefileTranslator.Translate(CorefileParser.Parse(rendered, "Corefile"), 53, w => warnings?.Add(w)).Values;
    }

    [Fact]
    public void Parses_server_blocks_directives_arguments_and_positions()
    {
        IReadOnlyList<CorefileServerBlock> blocks = CorefileParser.Parse(Reference, "Corefile");
        Assert.Equal(["cluster.local:53", "in-addr.arpa:53", ".:53"], blocks.Select(b => b.Keys[0]));
        CorefileDirective cache = blocks[0].Directives[1];
        Assert.Equal("cache", cache.Name);
        Assert.Equal(new CorefilePosition("Corefile", 3, 5), cache.Position);
        Assert.Equal(["success", "denial"], cache.Block.Select(d => d.Name));
        Assert.Equal(["9984", "30"], cache.Block[0].Arguments);
        Assert.Equal(["169.254.20.10", "10.96.0.10"], blocks[0].Directives.Single(d => d.Name == "bind").Arguments);
    }

    [Fact]
    public void The_reference_corefile_becomes_nodedns_settings()
    {
        Dictionary<OptionSpec, RawValue> raw = Translate(Reference);
        Assert.Equal(["cluster.local=10.0.0.53/tcp", "in-addr.arpa=10.0.0.53/tcp", "/etc/resolv.conf"], raw[OptionCatalog.Upstream].Values);
        Assert.Equal(["cluster.local=5:30:5", "in-addr.arpa=5:30:30", ".=5:30:30"], raw[OptionCatalog.ZoneTtl].Values);
        Assert.Equal(["169.254.20.10:53", "10.96.0.10:53"], raw[OptionCatalog.Listen].Values);
        Assert.Equal("0.0.0.0:9253", raw[OptionCatalog.Metrics].Values[0]);
        Assert.Equal(["169.254.20.10:8080"], raw[OptionCatalog.HttpListen].Values);
        Assert.Equal("29952", raw[OptionCatalog.CacheSize].Values[0]); // three blocks of 9984, one shared cache
        Assert.Equal(3, SettingsParser.Parse(raw).Upstreams.Count);
    }

    [Fact]
    public void Cache_and_forward_options_map_to_nodedns_options()
    {
        Dictionary<OptionSpec, RawValue> raw = Translate("""
            example.org:5353 {
                bind 10.0.0.1
                cache 300 {
                    prefetch 5 30s 20%
                    serve_stale 10m
                    serve_stale_policy prefer_positive
                    servfail 10s
                    disable denial
                }
                forward . 10.0.0.2:5300 dns://10.0.0.3 {
                    policy round_robin
                    max_fails 3
                    health_check 1s
                    max_concurrent 500
                    prefer_udp
                }
                health {
                    lameduck 7s
                }
                ready
                debug
            }
            .:5353 {
                bind 10.0.0.1
                forward . 10.0.0.9
            }
            """);
        Assert.Equal(["example.org=10.0.0.2:5300", "example.org=10.0.0.3", "10.0.0.9"], raw[OptionCatalog.Upstream].Values);
        Assert.Equal(["example.org=5:300:0", ".=0:0:0"], raw[OptionCatalog.ZoneTtl].Values); // no cache directive: nothing cached
        Assert.Equal(["10.0.0.1:5353"], raw[OptionCatalog.Listen].Values);
        Assert.Equal("5", raw[OptionCatalog.PrefetchHits].Values[0]);
        Assert.Equal("20", raw[OptionCatalog.PrefetchPercent].Values[0]);
        Assert.Equal("10m", raw[OptionCatalog.ServeStale].Values[0]);
        Assert.Equal("true", raw[OptionCatalog.ServeStalePreferPositive].Values[0]);
        Assert.Equal("10s", raw[OptionCatalog.FailureMaxTtl].Values[0]);
        Assert.Equal("round_robin", raw[OptionCatalog.Policy].Values[0]);
        Assert.Equal("500", raw[OptionCatalog.MaxInFlight].Values[0]);
        Assert.Equal("7s", raw[OptionCatalog.Lameduck].Values[0]);
        Assert.Equal(["0.0.0.0:8080", "0.0.0.0:8181"], raw[OptionCatalog.HttpListen].Values);
        DaemonSettings settings = SettingsParser.Parse(raw);
        Assert.Equal(NodeDns.Forwarding.UpstreamPolicy.RoundRobin, settings.Policy);
        Assert.Equal(3, settings.MaxFails);
    }

    [Theory]
    [InlineData("example.org {\n    rewrite name a b\n}\n", "Corefile:2:5: directive 'rewrite name a b' is not supported")]
    [InlineData(".:53 {\n  forward . 10.0.0.1 {\n    tls_servername x\n  }\n}\n", "Corefile:3:5: forward option 'tls_servername x' is not supported")]
    [InlineData(".:53 {\n  cache {\n    keepttl\n  }\n}\n", "Corefile:3:5: cache option 'keepttl' is not supported")]
    [InlineData(".:53 {\n  forward . tls://9.9.9.9\n}\n", "Corefile:2:3: forward to 'tls://9.9.9.9': only plain DNS")]
    [InlineData(".:53 {\n  errors\n", "Corefile:1:1: '{' is never closed")]
    [InlineData(".:99999 {\n}\n", "Corefile:1:1: server '.:99999': bad port")]
    [InlineData(".:53 {\n  cache abc\n}\n", "Corefile:2:3: cache: 'abc' is not a TTL")]
    [InlineData(".:53 {\n  forward .\n}\n", "Corefile:2:3: forward needs FROM and at least one TO")]
    public void Errors_name_file_line_and_column(string corefile, string expected)
    {
        var error = Assert.Throws<CorefileException>(() => CorefileTranslator.Translate(CorefileParser.Parse(corefile, "Corefile"), 53, _ => { }));
        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_forward_target_names_its_position()
    {
        var error = Assert.Throws<ConfigurationException>(() => CorefileTranslator.Translate(
            CorefileParser.Parse(".:53 {\n  errors\n  forward . 10.0.0.300\n}\n", "Corefile"), 53, _ => { }));
        Assert.StartsWith("Corefile Corefile:3:3 forward: invalid value '10.0.0.300'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Harmless_directives_only_warn()
    {
        var warnings = new List<string>();
        Translate(".:53 {\n  debug\n  pprof\n  forward . 10.0.0.1\n}\n", warnings);
        Assert.Equal(2, warnings.Count);
        Assert.Contains("Corefile:2:3: directive 'debug' is ignored", warnings[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Pillars_are_substituted_and_stub_domains_appended_as_node_cache_does()
    {
        var kubeDns = new KubeDnsConfig(new Dictionary<string, IReadOnlyList<string>> { ["acme.local"] = ["1.2.3.4", "1.2.3.5"] }, ["8.8.8.8"]);
        string rendered = PillarRenderer.Render("""
            .:53 {
                bind __PILLAR__LOCAL__DNS__ __PILLAR__DNS__SERVER__
                forward . __PILLAR__UPSTREAM__SERVERS__
                prometheus __PROMETHEUS__ENDPOINT__
            }
            """, ["169.254.20.10", "10.96.0.10"], "10.96.0.11", kubeDns, 53, ":9253");
        Assert.Contains("bind 169.254.20.10 10.96.0.10 \n", rendered, StringComparison.Ordinal);
        Assert.Contains("forward . 8.8.8.8\n", rendered, StringComparison.Ordinal);
        Assert.Contains("prometheus :9253\n", rendered, StringComparison.Ordinal);
        Assert.Contains("acme.local:53 {\n    errors\n    cache 30\n    bind 169.254.20.10 10.96.0.10\n    forward . 1.2.3.4 1.2.3.5\n}\n", rendered, StringComparison.Ordinal);
        Dictionary<OptionSpec, RawValue> raw = CorefileTranslator.Translate(CorefileParser.Parse(rendered, "Corefile"), 53, _ => { }).Values;
        Assert.Contains("acme.local=1.2.3.5", raw[OptionCatalog.Upstream].Values);
    }

    [Fact]
    public void The_kube_dns_configmap_is_read_from_its_directory()
    {
        string dir = Directory.CreateTempSubdirectory("kube-dns-").FullName;
        try
        {
            Assert.Same(KubeDnsConfig.Empty, KubeDnsConfig.Load(Path.Combine(dir, "missing")));
            File.WriteAllText(Path.Combine(dir, "stubDomains"), """{"acme.local": ["1.2.3.4"]}""");
            File.WriteAllText(Path.Combine(dir, "upstreamNameservers"), """["8.8.8.8", "8.8.4.4"]""");
            KubeDnsConfig config = KubeDnsConfig.Load(dir);
            Assert.Equal(["1.2.3.4"], config.StubDomains["acme.local"]);
            Assert.Equal(["8.8.8.8", "8.8.4.4"], config.UpstreamNameservers);

            File.WriteAllText(Path.Combine(dir, "upstreamNameservers"), """["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"]""");
            Assert.Contains("at most 3", Assert.Throws<CorefileException>(() => KubeDnsConfig.Load(dir)).Message, StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir, "stubDomains"), "{not json");
            Assert.Throws<CorefileException>(() => KubeDnsConfig.Load(dir));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Node_cache_flags_parse_in_go_style()
    {
        Assert.True(NodeCacheCommandLine.Applies(["-localip", "169.254.20.10"]));
        Assert.False(NodeCacheCommandLine.Applies(["--listen", "127.0.0.1:53"]));
        Assert.False(NodeCacheCommandLine.Applies(["serve"]));
        NodeCacheCommandLine flags = NodeCacheCommandLine.Parse(["-localip=169.254.20.10", "-conf", "/tmp/Corefile", "-setupiptables=false", "-skipteardown", "-kubednscm", "/tmp/kd"]);
        Assert.Equal("/tmp/Corefile", flags.CorefileTemplatePath);
        Assert.Equal("/tmp/kd", flags.KubeDnsDirectory);
        Assert.Contains("not supported", Assert.Throws<ConfigurationException>(() => NodeCacheCommandLine.Parse(["-localip", "1.2.3.4", "-reloadwithsignal"])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_corefile_rendered_from_the_base_template_is_written_to_conf_as_node_cache_does()
    {
        string dir = Directory.CreateTempSubdirectory("nodedns-render-").FullName;
        try
        {
            string template = Path.Combine(dir, "Corefile.base");
            string rendered = Path.Combine(dir, "Corefile");
            File.WriteAllText(template, Reference);
            NodeCacheCommandLine flags = NodeCacheCommandLine.Parse(["-localip", "169.254.20.10", "-basecorefile", template, "-conf", rendered,
                "-setupiptables=false", "-setupinterface=false", "-kubednscm", Path.Combine(dir, "none")]);
            var warnings = new List<string>();
            flags.Load(new Dictionary<string, string?> { ["KUBE_DNS_SERVICE_HOST"] = "10.96.0.53" }, warnings.Add);

            string text = File.ReadAllText(rendered);
            Assert.DoesNotContain("__PILLAR__", text, StringComparison.Ordinal);
            Assert.Contains("forward . 10.96.0.53", text, StringComparison.Ordinal);
            Assert.Equal(Reference, File.ReadAllText(template)); // the template is never touched
            Assert.DoesNotContain(warnings, w => w.Contains("cannot write", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
