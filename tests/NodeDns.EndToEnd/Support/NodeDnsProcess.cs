using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using DnsClient;

namespace NodeDns.EndToEnd.Support;

/// <summary>The published <c>nodedns</c> binary running as a real process on loopback.</summary>
public sealed partial class NodeDnsProcess : IAsyncDisposable
{
    private static readonly Lazy<Task<string>> Binary = new(PublishAsync);
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly Lazy<StrictAnswerTap> _tap;

    private NodeDnsProcess(Process process, IPEndPoint endPoint, int metricsPort)
    {
        _process = process;
        EndPoint = endPoint;
        MetricsPort = metricsPort;
        _tap = new Lazy<StrictAnswerTap>(() => new StrictAnswerTap(EndPoint));
        process.OutputDataReceived += (_, e) => Record(e.Data);
        process.ErrorDataReceived += (_, e) => Record(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public IPEndPoint EndPoint { get; }
    public int MetricsPort { get; }
    public int ProcessId => _process.Id;
    private StrictAnswerTap Tap => _tap.Value;
    public string Output => string.Join('\n', _output);
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Starts nodedns listening on 127.0.0.1 (a free port unless --listen is given) and waits until it answers.</summary>
    public static async Task<NodeDnsProcess> StartAsync(params string[] args)
    {
        var arguments = new List<string>(args);
        IPEndPoint endPoint;
        int listenIndex = arguments.IndexOf("--listen");
        if (listenIndex >= 0)
        {
            endPoint = IPEndPoint.Parse(arguments[listenIndex + 1]);
        }
        else
        {
            endPoint = new IPEndPoint(IPAddress.Loopback, Ports.Free());
            arguments.AddRange(["--listen", endPoint.ToString()]);
        }

        int metricsPort = Ports.Free();
        if (!arguments.Contains("--metrics"))
        {
            arguments.AddRange(["--metrics", $"127.0.0.1:{metricsPort}"]);
        }

        var daemon = new NodeDnsProcess(Process.Start(await StartInfoAsync(arguments))!, endPoint, metricsPort);
        await daemon.WaitUntilServingAsync();
        return daemon;
    }

    /// <summary>
    /// Starts nodedns inside a network namespace (<c>ip netns exec</c> execs it, so signals reach nodedns itself) and
    /// waits until it logs that it serves. <paramref name="args"/> must include the listen or local addresses.
    /// </summary>
    public static Task<NodeDnsProcess> StartInAsync(NetworkNamespace ns, params string[] args) => StartInAsync(ns, null, args);

    /// <summary>Starts nodedns under <c>prlimit</c> with at most <paramref name="files"/> open file descriptors.</summary>
    public static async Task<NodeDnsProcess> StartWithFileLimitAsync(int files, IPEndPoint endPoint, params string[] args)
    {
        var info = new ProcessStartInfo(Tools.Require("prlimit"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[$"--nofile={files}:{files}", await Binary.Value, "--listen", endPoint.ToString(), "--metrics", "off", .. args])
        {
            info.ArgumentList.Add(arg);
        }

        var daemon = new NodeDnsProcess(Process.Start(info)!, endPoint, 0);
        await daemon.WaitUntilServingAsync();
        return daemon;
    }

    /// <param name="environment">One NAME=VALUE variable to set for nodedns, or null.</param>
    public static async Task<NodeDnsProcess> StartInAsync(NetworkNamespace ns, string? environment, string[] args)
    {
        var info = new ProcessStartInfo(Tools.Require("ip"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (environment is not null)
        {
            info.Environment[environment.Split('=')[0]] = environment.Split('=', 2)[1];
        }

        foreach (string arg in (string[])["netns", "exec", ns.Name, await Binary.Value, .. args])
        {
            info.ArgumentList.Add(arg);
        }

        var daemon = new NodeDnsProcess(Process.Start(info)!, new IPEndPoint(IPAddress.Any, 53), 0);
        await daemon.WaitUntilServingAsync();
        return daemon;
    }

    /// <summary>
    /// Starts <paramref name="binary"/> (a nodedns built for another architecture) through <paramref name="launcher"/>
    /// (an emulator such as qemu-aarch64-static) on 127.0.0.1 and a free port, and waits until it answers.
    /// </summary>
    public static async Task<NodeDnsProcess> StartUnderAsync(string[] launcher, string binary, params string[] args)
    {
        var endPoint = new IPEndPoint(IPAddress.Loopback, Ports.Free());
        int metricsPort = Ports.Free();
        var info = new ProcessStartInfo(launcher[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in (string[])[.. launcher[1..], binary, .. args, "--listen", endPoint.ToString(), "--metrics", $"127.0.0.1:{metricsPort}"])
        {
            info.ArgumentList.Add(arg);
        }

        var daemon = new NodeDnsProcess(Process.Start(info)!, endPoint, metricsPort);
        await daemon.WaitUntilServingAsync();
        return daemon;
    }

    /// <summary>Runs nodedns to completion (for exit-code checks).</summary>
    public static async Task<ToolResult> RunToExitAsync(IEnumerable<string> args, IDictionary<string, string>? environment = null) =>
        await RunToExitAsync(await Binary.Value, args, environment);

    /// <summary>The path of the binary under test.</summary>
    public static Task<string> BinaryPathAsync() => Binary.Value;

    private static async Task<ToolResult> RunToExitAsync(string binary, IEnumerable<string> args, IDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return new ToolResult(process.ExitCode, await output, await error);
    }

    /// <summary>
    /// A DNS client for this daemon. Its queries go through a <see cref="StrictAnswerTap"/>, so every answer is read
    /// by a strict parser and a malformed one fails the test when the daemon is disposed.
    /// </summary>
    public LookupClient Client(bool tcp = false, int timeoutMs = 3000) => new(new LookupClientOptions(new NameServer(Tap.EndPoint))
    {
        UseCache = false,
        Retries = 0,
        Timeout = TimeSpan.FromMilliseconds(timeoutMs),
        UseTcpOnly = tcp,
        UseTcpFallback = true,
        ThrowDnsErrors = false,
        ContinueOnDnsError = false,
        EnableAuditTrail = false,
        ExtendedDnsBufferSize = 1232,
        Recursion = true,
    });

    public async Task<string> ScrapeAsync(string path = "/metrics")
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        return await http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}{path}"));
    }

    public void Signal(int signal) => Assert.Equal(0, Kill(_process.Id, signal));

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task WaitUntilServingAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"nodedns exited with {_process.ExitCode}:\n{Output}");
            }

            if (Output.Contains("listening on tcp", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"nodedns did not start serving:\n{Output}");
    }

    private void Record(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
        }
    }

    private static async Task<ProcessStartInfo> StartInfoAsync(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(await Binary.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        return info;
    }

    /// <summary>NODEDNS_BIN names a published binary (run-tests.sh publishes one); otherwise publish once here.</summary>
    private static async Task<string> PublishAsync()
    {
        string? given = Environment.GetEnvironmentVariable("NODEDNS_BIN");
        if (!string.IsNullOrEmpty(given))
        {
            return File.Exists(given) ? given : throw new FileNotFoundException($"NODEDNS_BIN={given} does not exist");
        }

        string root = RepositoryRoot();
        string output = Path.Combine(root, "artifacts", "e2e");
        ToolResult publish = await Tools.RunAsync("dotnet", ["publish", Path.Combine(root, "src", "NodeDns"), "-c", "Release", "-o", output, "--nologo"],
            TimeSpan.FromMinutes(5));
        Assert.True(publish.ExitCode == 0, publish.Output + publish.Error);
        return Path.Combine(output, "nodedns");
    }

    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NodeDns.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("NodeDns.sln not found above " + AppContext.BaseDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        if (_tap.IsValueCreated)
        {
            await _tap.Value.DisposeAsync(); // throws when an answer was malformed
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
