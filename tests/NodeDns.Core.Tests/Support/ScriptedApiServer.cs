using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Threading.Channels;
using NodeDns.EndToEnd.Support;

namespace NodeDns.Core.Tests;

/// <summary>
/// A scripted Kubernetes API server on 127.0.0.1 (plain HTTP) speaking the real API's JSON for pods: a list at
/// <c>GET /api/v1/pods</c> (a PodList with its resourceVersion) and a watch at the same path with <c>watch=true</c>,
/// streamed line by line (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) as the test pushes events; a test can end a
/// stream, answer 410 Gone, or be down. Every request is recorded with its query string.
/// </summary>
public sealed class ScriptedApiServer : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _watchLock = new();

    /// <summary>Events for the newest watch; events pushed before it opened wait here for it.</summary>
    private Channel<string?> _events = Channel.CreateUnbounded<string?>();

    public ScriptedApiServer()
    {
        (_listener, Port) = Listen();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>
    /// Listens on a free port. A port found free can be taken before it is bound (by a daemon's random upstream
    /// source port, in tests running beside this one): then another is tried.
    /// </summary>
    private static (HttpListener Listener, int Port) Listen()
    {
        for (int attempt = 1; ; attempt++)
        {
            int port = Ports.Free();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 10)
            {
                listener.Close();
            }
        }
    }

    public int Port { get; }

    /// <summary>The pods a list returns, as JSON objects, and the list's resourceVersion.</summary>
    public List<string> Pods { get; } = [];
    public string ListVersion { get; set; } = "100";

    /// <summary>When set, the next watch request gets HTTP 410 Gone (then it is cleared).</summary>
    public bool NextWatchGone { get; set; }

    public ConcurrentQueue<string> Requests { get; } = new();

    public string Kubeconfig(string directory)
    {
        string path = Path.Combine(directory, "kubeconfig");
        File.WriteAllText(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: scripted
              cluster:
                server: http://127.0.0.1:{Port}
            users:
            - name: scripted
              user:
                token: scripted-token
            contexts:
            - name: scripted
              context:
                cluster: scripted
                user: scripted
            current-context: scripted
            """);
        return path;
    }

    public static string Pod(string name, string ns, string uid, string? ip, string version, bool hostNetwork = false, string dnsPolicy = "ClusterFirst",
        string? ipv6 = null)
    {
        string[] ips = [.. new[] { ip, ipv6 }.OfType<string>()];
        string status = ip is null
            ? "{\"phase\":\"Pending\"}"
            : $"{{\"phase\":\"Running\",\"podIP\":\"{ip}\",\"podIPs\":[{string.Join(',', ips.Select(a => $"{{\"ip\":\"{a}\"}}"))}]}}";
        string metadata = $"{{\"name\":\"{name}\",\"namespace\":\"{ns}\",\"uid\":\"{uid}\",\"resourceVersion\":\"{version}\"}}";
        string spec = $"{{\"nodeName\":\"node-a\",\"dnsPolicy\":\"{dnsPolicy}\",\"hostNetwork\":{(hostNetwork ? "true" : "false")},"
            + "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}],"
            + "\"dnsConfig\":{\"searches\":[\"extra.example\"],\"options\":[{\"name\":\"ndots\",\"value\":\"2\"}]}}";
        return $"{{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{metadata},\"spec\":{spec},\"status\":{status}}}";
    }

    /// <summary>Sends one watch event to the watch that is open (or the next one).</summary>
    public void Push(string type, string json) => Write("{\"type\":\"" + type + "\",\"object\":" + json + "}");

    public void PushBookmark(string version) =>
        Push("BOOKMARK", "{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"resourceVersion\":\"" + version + "\"}}");

    public void PushGone() =>
        Push("ERROR", """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version","reason":"Expired","code":410}""");

    /// <summary>Ends the open watch stream as the server's timeout would.</summary>
    public void EndWatch() => Write(null);

    private void Write(string? line)
    {
        lock (_watchLock)
        {
            _events.Writer.TryWrite(line);
        }
    }

    /// <summary>Gives a new watch its own channel, with what was pushed for it; the previous watch's stream ends.</summary>
    private Channel<string?> TakeOverEvents()
    {
        lock (_watchLock)
        {
            Channel<string?> fresh = Channel.CreateUnbounded<string?>();
            while (_events.Reader.TryRead(out string? pending))
            {
                fresh.Writer.TryWrite(pending);
            }

            _events.Writer.TryComplete();
            _events = fresh;
            return fresh;
        }
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }

            _ = Task.Run(() => RespondAsync(context));
        }
    }

    private async Task RespondAsync(HttpListenerContext context)
    {
        string query = context.Request.Url!.PathAndQuery;
        Requests.Enqueue(query);
        HttpListenerResponse response = context.Response;
        try
        {
            if (context.Request.Url.AbsolutePath != "/api/v1/pods")
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }

            response.ContentType = "application/json";
            if (context.Request.QueryString["watch"] != "true")
            {
                byte[] body = Encoding.UTF8.GetBytes($$"""{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"{{ListVersion}}"},"items":[{{string.Join(',', Pods)}}]}""");
                await response.OutputStream.WriteAsync(body);
                response.Close();
                return;
            }

            if (NextWatchGone)
            {
                NextWatchGone = false;
                response.StatusCode = 410;
                await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes("""{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired","code":410}"""));
                response.Close();
                return;
            }

            Channel<string?> events = TakeOverEvents();
            response.SendChunked = true;
            await response.OutputStream.FlushAsync();
            await foreach (string? line in events.Reader.ReadAllAsync(_stop.Token))
            {
                if (line is null)
                {
                    break;
                }

                await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes(line + "\n"));
                await response.OutputStream.FlushAsync();
            }

            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or OperationCanceledException or IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception e) when (e is OperationCanceledException or TimeoutException)
        {
        }
    }
}
