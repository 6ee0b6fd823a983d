using System.Collections;
using System.Net.Sockets;
using NodeDns.Daemon.Cli;
using NodeDns.Daemon.Compatibility;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Handoff;
using NodeDns.Daemon.Hosting;
using NodeDns.Daemon.Kubernetes;

namespace NodeDns.Daemon;

public static class Program
{
    public const int ExitOk = 0;
    public const int ExitRuntimeFailure = 1;
    public const int ExitBadConfiguration = 2;

    public static async Task<int> Main(string[] args)
    {
        DaemonSettings settings;
        Func<DaemonSettings> load;
        try
        {
            switch (args.FirstOrDefault())
            {
                case "query":
                    return await QueryCommand.RunAsync(args[1..], Console.Out).ConfigureAwait(false);
                case "check-config":
                    return CheckConfigCommand.Run(args[1..], Console.Out);
                case "setup-network" or "teardown-network":
                    return NetworkCommands.Run(args[0], args[1..], Console.Out, Console.Error);
                case "init":
                    return InitCommand.Run(args[1..], Console.Out, Console.Error);
                case "top":
                    return await TopCommand.RunAsync(args[1..], Console.Out, Console.Error).ConfigureAwait(false);
                case "convert-corefile":
                    return ConvertCorefileCommand.Run(args[1..], Console.Out, Console.Error);
            }

            if (NodeCacheCommandLine.Applies(args))
            {
                NodeCacheCommandLine nodeCache = NodeCacheCommandLine.Parse(args);
                load = () => nodeCache.Load(Environment(), message => Console.Error.WriteLine($"nodedns: warning: {message}"));
            }
            else
            {
                CommandLine command = CommandLine.Parse(args);
                switch (command.Verb)
                {
                    case "help":
                        Console.Out.Write(CommandLine.Usage());
                        return ExitOk;
                    case "version":
                        Console.Out.WriteLine($"nodedns {BuildInfo.Version}");
                        return ExitOk;
                }

                load = () => SettingsParser.Parse(RawSettings.Merge(command.Options, Environment()));
            }

            settings = load();
        }
        catch (ConfigurationException e)
        {
            await Console.Error.WriteLineAsync($"nodedns: {e.Message}").ConfigureAwait(false);
            return ExitBadConfiguration;
        }

        return await ServeAsync(settings, load).ConfigureAwait(false);
    }

    private static async Task<int> ServeAsync(DaemonSettings settings, Func<DaemonSettings> loadUnfitted)
    {
        if (Interop.LinuxSocketCalls.CheckLayouts() is { } mismatch)
        {
            await Console.Error.WriteLineAsync($"nodedns: this platform's socket structures are not the 64-bit Linux ones NodeDns uses: {mismatch}")
                .ConfigureAwait(false);
            return ExitRuntimeFailure;
        }

        settings = FileDescriptorBudget.Fit(settings, out string? budgetNote);
        DaemonSettings load() => FileDescriptorBudget.Fit(loadUnfitted(), out _); // a reload stays within the open-file limit too
        if (budgetNote is not null)
        {
            await Console.Error.WriteLineAsync($"nodedns: warning: {budgetNote}").ConfigureAwait(false);
        }

        Takeover? takeover = null;
        if (settings.HandoffSocket is { } handoffPath)
        {
            try
            {
                takeover = HandoffClient.TryTakeOver(handoffPath);
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or TimeoutException or FormatException)
            {
                await Console.Error.WriteLineAsync($"nodedns: taking over through {handoffPath} failed ({e.Message}); binding afresh").ConfigureAwait(false);
            }
        }

        InstanceLock? instanceLock = null;
        if (settings.LockFile is { } lockPath)
        {
            instanceLock = InstanceLock.TryAcquire(lockPath, out string holder);
            if (instanceLock is null && takeover is null)
            {
                await Console.Error.WriteLineAsync($"nodedns: another NodeDns instance (pid {holder}) holds {lockPath}; "
                    + "to replace it without downtime, start the new one with the same --handoff-socket").ConfigureAwait(false);
                return ExitRuntimeFailure;
            }
        }

        BoundListeners listeners;
        try
        {
            listeners = BoundListeners.Bind(settings, takeover);
        }
        catch (ListenerBindException e)
        {
            await Console.Error.WriteLineAsync($"nodedns: cannot bind {e.What}: {e.InnerException!.Message} ({((SocketException)e.InnerException).SocketErrorCode})")
                .ConfigureAwait(false);
            return ExitRuntimeFailure;
        }

        if (settings.PidFile is { } pidFile)
        {
            try
            {
                await File.WriteAllTextAsync(pidFile, $"{System.Environment.ProcessId}\n").ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                listeners.Dispose();
                await Console.Error.WriteLineAsync($"nodedns: cannot write the pid file {pidFile}: {e.Message}").ConfigureAwait(false);
                return ExitRuntimeFailure;
            }
        }

        PodWatchPlan? podWatch = PodWatchPlan.Resolve(settings, Environment(), out string? podWatchProblem);
        if (podWatchProblem is not null)
        {
            await Console.Error.WriteLineAsync($"nodedns: warning: {podWatchProblem}").ConfigureAwait(false);
        }

        return await DaemonHost.RunAsync(settings, listeners, load, takeover, instanceLock, podWatch).ConfigureAwait(false);
    }

    private static Dictionary<string, string?> Environment() =>
        System.Environment.GetEnvironmentVariables().Cast<DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => e.Value as string);
}
