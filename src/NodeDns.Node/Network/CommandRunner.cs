using System.Diagnostics;

namespace NodeDns.Node.Network;

public sealed record CommandResult(string Command, int ExitCode, string Output)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>A system command that failed; the message has the command, its output and what to do.</summary>
public sealed class NetworkSetupException(string message, string errorType) : Exception(message)
{
    /// <summary>The <c>errortype</c> label of <c>coredns_nodecache_setup_errors_total</c>.</summary>
    public string ErrorType { get; } = errorType;
}

/// <summary>Runs <c>ip</c>, <c>iptables</c>, <c>nft</c>: the node's own tools, so their semantics are the operator's.</summary>
public class CommandRunner
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public virtual CommandResult Run(string tool, IReadOnlyList<string> args, string? input = null)
    {
        string command = tool + " " + string.Join(' ', args.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        try
        {
            using var process = Process.Start(info)!;
            if (input is not null)
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            }

            Task<string> output = process.StandardOutput.ReadToEndAsync();
            Task<string> error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Timeout))
            {
                process.Kill(entireProcessTree: true);
                return new CommandResult(command, -1, $"timed out after {Timeout.TotalSeconds} s");
            }

            return new CommandResult(command, process.ExitCode, (output.Result + error.Result).Trim());
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return new CommandResult(command, 127, $"{tool} could not be started: {e.Message} (is it installed and on PATH?)");
        }
    }

    /// <summary>Runs and throws <see cref="NetworkSetupException"/> naming the command, its output and <paramref name="advice"/> on failure.</summary>
    public CommandResult Require(string tool, IReadOnlyList<string> args, string errorType, string advice, string? input = null)
    {
        CommandResult result = Run(tool, args, input);
        return result.Succeeded
            ? result
            : throw new NetworkSetupException($"'{result.Command}' failed (exit {result.ExitCode}): {result.Output}. {advice}", errorType);
    }
}
