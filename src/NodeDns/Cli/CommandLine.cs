using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary>A parsed command line: the verb and the options given to it.</summary>
public sealed record CommandLine(string Verb, IReadOnlyDictionary<OptionSpec, List<string>> Options)
{
    public static readonly IReadOnlyList<string> Verbs =
        ["serve", "query", "check-config", "setup-network", "teardown-network", "init", "convert-corefile", "top", "help", "version"];

    /// <summary>Parses <c>[VERB] [--option value | --option=value]...</c>; the verb defaults to <c>serve</c>.</summary>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        int index = 0;
        string verb = "serve";
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            verb = args[0];
            index = 1;
            if (!Verbs.Contains(verb))
            {
                throw new ConfigurationException($"unknown command '{verb}' (commands: {string.Join(", ", Verbs)})");
            }
        }
        else if (args.Count > 0 && args[0] is "--help" or "-h")
        {
            return new CommandLine("help", new Dictionary<OptionSpec, List<string>>());
        }
        else if (args.Count > 0 && args[0] is "--version")
        {
            return new CommandLine("version", new Dictionary<OptionSpec, List<string>>());
        }

        Dictionary<OptionSpec, List<string>> options = VerbArguments.ParseServeOptions(verb, [.. args.Skip(index)], OptionCatalog.All);
        return new CommandLine(verb, options);
    }

    public static string Usage()
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine("nodedns: a node-local caching DNS forwarder");
        text.AppendLine();
        text.AppendLine("usage: nodedns [serve] [--config FILE] [--listen IP:PORT]... [--upstream [ZONE=]IP:PORT[/tcp|/udp]]...");
        text.AppendLine("               [--metrics IP:PORT] [--cache-size N] [options]");
        text.AppendLine("       nodedns query NAME [TYPE] [--server IP[:PORT]] [--tcp] [--timeout D]   (exit 0 on NOERROR/NXDOMAIN)");
        text.AppendLine("       nodedns check-config FILE [--show] [SERVE OPTIONS...]");
        text.AppendLine("       nodedns top [--metrics IP:PORT] [--once] [--interval D]   (the heaviest pods and names; needs the pod watch)");
        text.AppendLine("       nodedns setup-network    --local-ip IP[,IP] [--interface NAME] [--health-port N] [--firewall iptables|nftables|none]");
        text.AppendLine("       nodedns teardown-network --local-ip IP[,IP] [--interface NAME] [--firewall iptables|nftables|none]");
        text.AppendLine("       nodedns init --resolv-conf PATH --nameserver IP[,IP] [--keep-nameservers N] [--dry-run]");
        text.AppendLine("       nodedns init --print-dns-config --nameserver IP [--namespace NS] [--cluster-domain cluster.local]");
        text.AppendLine("       nodedns convert-corefile FILE [--local-ip IP[,IP]] [--cluster-dns IP]");
        text.AppendLine("       nodedns -localip IP[,IP] -conf /etc/Corefile [...]   (node-local-dns's flags and Corefile, see docs)");
        text.AppendLine("       nodedns help | version");
        text.AppendLine();
        text.AppendLine("Every verb takes --option value and --option=value. Options of serve (each also NODEDNS_<NAME> in the environment");
        text.AppendLine("and a key in the JSON config file; a reload on SIGHUP or a change of the file applies them unless said otherwise):");
        foreach (OptionSpec option in OptionCatalog.All)
        {
            text.AppendLine($"  {option.Flag,-20} {option.Help} (default: {option.Default}{(option.Reload == ReloadBehaviour.NeedsRestart ? "; a change needs a restart" : "")})");
            text.AppendLine($"  {"",-20} env {option.EnvironmentVariable}, config key \"{option.JsonKey}\"");
        }

        text.AppendLine();
        text.AppendLine("exit codes: 0 clean stop, 1 runtime failure (e.g. cannot bind), 2 bad command line or configuration");
        return text.ToString();
    }
}
