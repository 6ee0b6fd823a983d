using System.Diagnostics;
using System.Net;
using System.Text;
using DnsClient;
using DnsClient.Protocol;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// <c>nodedns query NAME [TYPE] [--server IP:PORT] [--tcp] [--timeout D]</c>: a dig-like check built on DnsClient,
/// usable as an exec probe. Exit 0 when the server answered NOERROR or NXDOMAIN, 1 for any other rcode or no
/// answer, 2 for bad arguments.
/// </summary>
public static class QueryCommand
{
    public static readonly IPEndPoint DefaultServer = DaemonSettings.DefaultListen;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output)
    {
        VerbArguments arguments = VerbArguments.Parse("query", args, ["--server", "--timeout"], ["--tcp"], maxPositional: 2);
        IReadOnlyList<string> positional = arguments.Positional;
        IPEndPoint server = arguments.Get("--server") is { } given ? ValueParsers.ParseEndPoint(given, 53, "--server") : DefaultServer;
        bool tcp = arguments.IsOn("--tcp");
        TimeSpan timeout = arguments.Get("--timeout") is { } text
            ? ValueParsers.ParseDuration(text.ToLowerInvariant()) is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromMinutes(1)
                ? t
                : throw new ConfigurationException($"--timeout: invalid value '{text}': expected a duration such as 2s")
            : TimeSpan.FromSeconds(2);

        if (positional.Count is 0 or > 2)
        {
            throw new ConfigurationException("query: usage: nodedns query NAME [TYPE] [--server IP[:PORT]] [--tcp] [--timeout D]");
        }

        QueryType type = positional.Count == 2
            ? Enum.TryParse(positional[1], ignoreCase: true, out QueryType parsed) && Enum.IsDefined(parsed)
                ? parsed
                : throw new ConfigurationException($"query: unknown type '{positional[1]}'")
            : QueryType.A;

        var client = new LookupClient(new LookupClientOptions(new NameServer(server))
        {
            UseCache = false,
            Retries = 0,
            Timeout = timeout,
            UseTcpOnly = tcp,
            UseTcpFallback = true,
            ThrowDnsErrors = false,
            ContinueOnDnsError = false,
            EnableAuditTrail = false,
            ExtendedDnsBufferSize = 1232,
        });
        var watch = Stopwatch.StartNew();
        IDnsQueryResponse response;
        try
        {
            response = await client.QueryAsync(positional[0], type).ConfigureAwait(false);
        }
        catch (DnsResponseException e)
        {
            await output.WriteLineAsync($";; no answer from {server} ({(tcp ? "tcp" : "udp")}): {e.Message}").ConfigureAwait(false);
            return 1;
        }

        watch.Stop();
        await output.WriteAsync(Describe(response, server, tcp, watch.Elapsed)).ConfigureAwait(false);
        return response.Header.ResponseCode is DnsHeaderResponseCode.NoError or DnsHeaderResponseCode.NotExistentDomain ? 0 : 1;
    }

    private static string Describe(IDnsQueryResponse response, IPEndPoint server, bool tcp, TimeSpan elapsed)
    {
        DnsResponseHeader header = response.Header;
        var flags = new List<string> { "qr" };
        if (header.HasAuthorityAnswer)
        {
            flags.Add("aa");
        }

        if (header.ResultTruncated)
        {
            flags.Add("tc");
        }

        if (header.RecursionDesired)
        {
            flags.Add("rd");
        }

        if (header.RecursionAvailable)
        {
            flags.Add("ra");
        }

        if (header.IsAuthenticData)
        {
            flags.Add("ad");
        }

        var text = new StringBuilder();
        text.AppendLine($";; status: {RcodeName(header.ResponseCode)}, id: {header.Id}");
        text.AppendLine($";; flags: {string.Join(' ', flags)}; QUERY: {header.QuestionCount}, ANSWER: {header.AnswerCount}, "
            + $"AUTHORITY: {header.NameServerCount}, ADDITIONAL: {header.AdditionalCount}");
        foreach (DnsQuestion question in response.Questions)
        {
            text.AppendLine($";; QUESTION: {question.QueryName} {question.QuestionClass} {question.QuestionType}");
        }

        Section(text, "ANSWER", response.Answers);
        Section(text, "AUTHORITY", response.Authorities);
        Section(text, "ADDITIONAL", response.Additionals.Where(r => r.RecordType != ResourceRecordType.OPT));
        text.AppendLine($";; SERVER: {server} ({(tcp ? "tcp" : "udp")}), {response.MessageSize} bytes in {elapsed.TotalMilliseconds:F1} ms");
        return text.ToString();
    }

    private static void Section(StringBuilder text, string name, IEnumerable<DnsResourceRecord> records)
    {
        var list = records.ToList();
        if (list.Count > 0)
        {
            text.AppendLine($";; {name}:");
            list.ForEach(r => text.AppendLine(r.ToString()));
        }
    }

    private static string RcodeName(DnsHeaderResponseCode code) => code switch
    {
        DnsHeaderResponseCode.NoError => "NOERROR",
        DnsHeaderResponseCode.FormatError => "FORMERR",
        DnsHeaderResponseCode.ServerFailure => "SERVFAIL",
        DnsHeaderResponseCode.NotExistentDomain => "NXDOMAIN",
        DnsHeaderResponseCode.NotImplemented => "NOTIMP",
        DnsHeaderResponseCode.Refused => "REFUSED",
        _ => code.ToString().ToUpperInvariant(),
    };
}
