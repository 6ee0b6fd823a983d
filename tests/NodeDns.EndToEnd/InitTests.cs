using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary><c>nodedns init</c> on real files, including a bind-mounted resolv.conf as in a container.</summary>
public sealed class InitTests
{
    private const string KubeletResolvConf = "# written by kubelet\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n";

    [Fact]
    public async Task Rewrites_atomically_keeps_comments_and_is_idempotent()
    {
        string path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, KubeletResolvConf);
        try
        {
            ToolResult first = await NodeDnsProcess.RunToExitAsync(["init", "--resolv-conf", path, "--nameserver", "169.254.20.10", "--keep-nameservers", "1"]);
            Assert.Equal(0, first.ExitCode);
            Assert.Contains("replaced atomically", first.Output, StringComparison.Ordinal);
            Assert.Equal("# written by kubelet\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\nnameserver 169.254.20.10\nnameserver 10.96.0.10\noptions ndots:5\n",
                await File.ReadAllTextAsync(path));

            ToolResult second = await NodeDnsProcess.RunToExitAsync(["init", "--resolv-conf", path, "--nameserver", "169.254.20.10", "--keep-nameservers", "1"]);
            Assert.Equal(0, second.ExitCode);
            Assert.Contains("already uses", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Dry_run_prints_a_diff_and_writes_nothing()
    {
        string path = Path.GetTempFileName();
        await File.WriteAllTextAsync(path, KubeletResolvConf);
        try
        {
            ToolResult dry = await NodeDnsProcess.RunToExitAsync(["init", "--resolv-conf", path, "--nameserver", "169.254.20.10", "--dry-run"]);
            Assert.Equal(0, dry.ExitCode);
            Assert.Contains("-nameserver 10.96.0.10\n+nameserver 169.254.20.10\n", dry.Output, StringComparison.Ordinal);
            Assert.Equal(KubeletResolvConf, await File.ReadAllTextAsync(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_bind_mounted_resolv_conf_is_rewritten_in_place()
    {
        string source = Path.GetTempFileName();
        string target = Path.GetTempFileName();
        await File.WriteAllTextAsync(source, KubeletResolvConf);
        try
        {
            string binary = await NodeDnsProcess.BinaryPathAsync();
            ToolResult result = await Tools.RunAsync("unshare", ["-m", "sh", "-c",
                $"mount --bind {source} {target} && {binary} init --resolv-conf {target} --nameserver 169.254.20.10"]);
            Assert.True(result.ExitCode == 0, result.Output + result.Error);
            Assert.Contains("mount point, rewritten in place", result.Output, StringComparison.Ordinal);
            Assert.Contains("nameserver 169.254.20.10\n", await File.ReadAllTextAsync(source), StringComparison.Ordinal); // the mounted file itself changed
            Assert.DoesNotContain("10.96.0.10", await File.ReadAllTextAsync(source), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(source);
            File.Delete(target);
        }
    }

    [Fact]
    public async Task Print_dns_config_and_bad_arguments()
    {
        ToolResult yaml = await NodeDnsProcess.RunToExitAsync(["init", "--print-dns-config", "--nameserver", "169.254.20.10", "--namespace", "shop"]);
        Assert.Equal(0, yaml.ExitCode);
        Assert.Contains("dnsPolicy: None", yaml.Output, StringComparison.Ordinal);
        Assert.Contains("- shop.svc.cluster.local", yaml.Output, StringComparison.Ordinal);

        Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["init", "--resolv-conf", "/tmp/x", "--nameserver", "not-ip"])).ExitCode);
        Assert.Equal(2, (await NodeDnsProcess.RunToExitAsync(["init", "--nameserver", "169.254.20.10"])).ExitCode);
        ToolResult unwritable = await NodeDnsProcess.RunToExitAsync(["init", "--resolv-conf", "/nonexistent/dir/resolv.conf", "--nameserver", "169.254.20.10"]);
        Assert.Equal(1, unwritable.ExitCode);
        Assert.Contains("cannot write /nonexistent/dir/resolv.conf", unwritable.Error, StringComparison.Ordinal);
    }
}
