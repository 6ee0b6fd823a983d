using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Operations;

namespace NodeDns.Daemon.Cli;

/// <summary>
/// <c>nodedns top [--metrics IP:PORT] [--once] [--interval D]</c>: the heaviest clients (pods) and names of the daemon on
/// this node, from its <c>/debug/top</c>, refreshed like top until Ctrl-C; <c>--once</c> prints one plain-text view for
/// scripts. Exit 0, 1 when the view cannot be had (unreachable, 403 off the node, pod watch off), 2 for bad arguments.
/// </summary>
public static class TopCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        VerbArguments parsed = VerbArguments.Parse("top", args, ["--metrics", "--interval"], ["--once"]);
        IPEndPoint metrics = parsed.Get("--metrics") is { } given ? ValueParsers.ParseEndPoint(given, null, "--metrics") : DaemonSettings.Defaults.Metrics!;
        TimeSpan interval = parsed.Get("--interval") is { } text
            ? ValueParsers.Duration(new RawValue([text], "--interval"), TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(10))
            : TimeSpan.FromSeconds(2);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        var uri = new Uri($"http://{metrics}/debug/top");
        try
        {
            while (true)
            {
                using HttpResponseMessage response = await http.GetAsync(uri, stop.Token).ConfigureAwait(false);
                string body = await response.Content.ReadAsStringAsync(stop.Token).ConfigureAwait(false);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    await error.WriteLineAsync($"nodedns: top: {uri} answered {(int)response.StatusCode}: {body.Trim()}").ConfigureAwait(false);
                    return 1;
                }

                string view = Render(body);
                if (parsed.IsOn("--once"))
                {
                    await output.WriteAsync(view).ConfigureAwait(false);
                    return 0;
                }

                await output.WriteAsync("\u001b[H\u001b[2J" + view).ConfigureAwait(false);
                await Task.Delay(interval, stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return 0;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            await error.WriteLineAsync($"nodedns: top: cannot read {uri}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The plain-text view of a <c>/debug/top</c> document.</summary>
    public static string Render(string json)
    {
        TopReport report = JsonSerializer.Deserialize(json, TopJson.Default.TopReport) ?? throw new JsonException("empty /debug/top document");
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"nodedns top: the last {report.WindowSeconds:0} s, "
            + $"1 query in {report.SampleEvery} sampled (counts are estimates)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"CLIENT",-44} {"QUERIES",9} {"NXDOMAIN",9} {"MISSES",9} {"NX/OK",7}");
        foreach (TopClient client in report.Clients)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{Cut(client.Client, 44),-44} "
                + $"{client.Queries,9} {client.NxDomain,9} {client.Misses,9} {client.ExpansionNxPerSuccess,7:0.00}");
        }

        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"NAME",-64} {"QUERIES",9} {"NXDOMAIN",9}");
        foreach (TopName name in report.Names)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{Cut(name.Name, 64),-64} {name.Queries,9} {name.NxDomain,9}");
        }

        return text.ToString();
    }

    private static string Cut(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";
}
