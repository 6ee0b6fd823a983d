using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace NodeDns.EndToEnd.Support;

/// <summary>
/// The real dnstap reader (Debian's golang-github-dnstap-golang-dnstap-cli): <c>dnstap -u SOCKET -y</c> or
/// <c>dnstap -l IP:PORT -y</c> prints every message it receives as a YAML document.
/// </summary>
internal sealed class DnstapReader : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly ConcurrentQueue<string> _errors = new();

    private DnstapReader(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) =>
        {
            lock (_output)
            {
                _output.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => _errors.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static Task<DnstapReader> ListenOnUnixSocketAsync(string path) => StartAsync("-u", path, () => File.Exists(path));

    /// <summary>
    /// A reader on a free loopback TCP port (<see cref="TcpEndPoint"/>). A port found free can be taken before the reader
    /// binds it (by a daemon's random upstream source port, in tests running beside this one): then another is tried.
    /// </summary>
    public static async Task<DnstapReader> ListenOnTcpAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, Ports.Free());
            DnstapReader reader = await StartAsync("-l", endPoint.ToString(), () => IsListening(endPoint.Port), mayFail: attempt < 10);
            if (!reader._process.HasExited)
            {
                reader.TcpEndPoint = endPoint;
                return reader;
            }

            await reader.DisposeAsync();
        }
    }

    /// <summary>Where a reader from <see cref="ListenOnTcpAsync"/> listens.</summary>
    public System.Net.IPEndPoint? TcpEndPoint { get; private set; }

    private static async Task<DnstapReader> StartAsync(string option, string address, Func<bool> ready, bool mayFail = false)
    {
        var info = new ProcessStartInfo(Tools.Require("dnstap")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in (string[])[option, address, "-y"])
        {
            info.ArgumentList.Add(arg);
        }

        var reader = new DnstapReader(Process.Start(info)!);
        await Eventually.TrueAsync(() => ready() || reader._process.HasExited);
        Assert.False(reader._process.HasExited && !mayFail, $"dnstap {option} {address} exited: {reader.Errors}");
        return reader;
    }

    /// <summary>A TCP socket listens on the port (state 0A in /proc/net/tcp), without connecting to it.</summary>
    private static bool IsListening(int port) =>
        File.ReadLines("/proc/net/tcp").Skip(1).Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Any(fields => fields[3] == "0A" && fields[1].EndsWith($":{port:X4}", StringComparison.Ordinal));

    /// <summary>The messages received so far, one YAML document each.</summary>
    public IReadOnlyList<string> Messages
    {
        get
        {
            string text;
            lock (_output)
            {
                text = _output.ToString();
            }

            return [.. text.Split("\n---", StringSplitOptions.RemoveEmptyEntries).Where(m => m.Contains("type: MESSAGE", StringComparison.Ordinal))];
        }
    }

    public string Errors => string.Join('\n', _errors);

    public IEnumerable<string> OfType(string type) => Messages.Where(m => m.Contains($"  type: {type}\n", StringComparison.Ordinal));

    /// <summary>Sends the reader a signal: STOP freezes it (its socket stays open, nothing is read), CONT resumes it.</summary>
    public async Task SignalAsync(string signal)
    {
        ToolResult result = await Tools.RunAsync("kill", [$"-{signal}", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        Assert.True(result.ExitCode == 0, result.Error);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
