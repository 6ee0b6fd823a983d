using System.Globalization;
using System.Net;
using System.Text;
using NodeDns.Daemon.Configuration;
using NodeDns.Node.ResolvConf;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// <c>nodedns init --resolv-conf PATH --nameserver IP[,IP] [--keep-nameservers N] [--dry-run]</c> rewrites a resolv.conf
/// to use NodeDns; <c>nodedns init --print-dns-config --nameserver IP [--namespace NS] [--cluster-domain D]</c> prints
/// the pod <c>dnsConfig</c> that does the same. Exit 0 done, 1 the file could not be read or written, 2 bad arguments.
/// </summary>
public static class InitCommand
{
    private static readonly string[] Valued = ["--resolv-conf", "--nameserver", "--keep-nameservers", "--namespace", "--cluster-domain", "--ndots"];
    private static readonly string[] Switches = ["--dry-run", "--print-dns-config"];

    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        VerbArguments parsed = VerbArguments.Parse("init", args, Valued, Switches);
        IReadOnlyList<IPAddress> nameservers = ParseNameservers(parsed.Require("--nameserver"));
        if (parsed.IsOn("--print-dns-config"))
        {
            output.Write(DnsConfigYaml(nameservers, parsed.Get("--namespace") ?? "default", parsed.Get("--cluster-domain") ?? "cluster.local",
                Number(parsed.Get("--ndots") ?? "5", "--ndots", 0, 15)));
            return 0;
        }

        string path = parsed.Require("--resolv-conf");
        int keep = Number(parsed.Get("--keep-nameservers") ?? "0", "--keep-nameservers", 0, ResolvConfRewriter.MaxNameservers - 1);
        string before;
        try
        {
            before = File.Exists(path) ? File.ReadAllText(path) : "";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"nodedns: cannot read {path}: {e.Message}");
            return 1;
        }

        string after = ResolvConfRewriter.Rewrite(ResolvConfFile.Parse(before), nameservers, keep).ToString();
        if (parsed.IsOn("--dry-run"))
        {
            output.Write(UnifiedDiff.Create(path, before, after));
            return 0;
        }

        if (after == before)
        {
            output.WriteLine($"{path}: already uses {string.Join(", ", nameservers)}");
            return 0;
        }

        try
        {
            WriteMethod method = SafeFileWriter.Write(path, after);
            output.WriteLine($"{path}: now uses {string.Join(", ", nameservers)} ({(method == WriteMethod.AtomicRename ? "replaced atomically" : "mount point, rewritten in place")})");
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"nodedns: cannot write {path}: {e.Message}");
            return 1;
        }
    }

    public static string DnsConfigYaml(IReadOnlyList<IPAddress> nameservers, string ns, string clusterDomain, int ndots)
    {
        var yaml = new StringBuilder();
        yaml.AppendLine("# Pod spec fragment: sends this pod's DNS to NodeDns on its node.");
        yaml.AppendLine("dnsPolicy: None");
        yaml.AppendLine("dnsConfig:");
        yaml.AppendLine("  nameservers:");
        foreach (IPAddress address in nameservers)
        {
            yaml.AppendLine($"    - {address}");
        }

        yaml.AppendLine("  searches:");
        yaml.AppendLine($"    - {ns}.svc.{clusterDomain}");
        yaml.AppendLine($"    - svc.{clusterDomain}");
        yaml.AppendLine($"    - {clusterDomain}");
        yaml.AppendLine("  options:");
        yaml.AppendLine("    - name: ndots");
        yaml.AppendLine($"      value: \"{ndots}\"");
        return yaml.ToString();
    }

    private static IReadOnlyList<IPAddress> ParseNameservers(string text)
    {
        IReadOnlyList<IPAddress> addresses = [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => IPAddress.TryParse(p.Trim('[', ']'), out IPAddress? a) ? a : throw new ConfigurationException($"--nameserver: invalid value '{text}': '{p}' is not an IP address"))];
        return addresses.Count is > 0 and <= ResolvConfRewriter.MaxNameservers
            ? addresses
            : throw new ConfigurationException($"--nameserver: invalid value '{text}': give 1 to {ResolvConfRewriter.MaxNameservers} addresses");
    }

    private static int Number(string text, string name, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min && n <= max
            ? n
            : throw new ConfigurationException($"{name}: invalid value '{text}': expected a whole number from {min} to {max}");
}
