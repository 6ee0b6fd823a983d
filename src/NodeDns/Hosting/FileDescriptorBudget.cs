using System.Runtime.InteropServices;
using NodeDns.Daemon.Configuration;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// Keeps the daemon within its open-file limit (RLIMIT_NOFILE): every in-flight question may hold up to one socket
/// per try and every TCP client one descriptor, so both caps are lowered to fit the limit, with a reserve for the
/// runtime, listeners and scrapes. Running out of descriptors then means SERVFAIL for the excess, not a dead process.
/// </summary>
public static partial class FileDescriptorBudget
{
    private const int RlimitNofile = 7;
    private const int Reserve = 256;
    private const int Minimum = 16;

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    /// <returns>The settings with caps that fit, and a note when they had to be lowered.</returns>
    public static DaemonSettings Fit(DaemonSettings settings, out string? note)
    {
        note = null;
        if (!OperatingSystem.IsLinux() || GetRLimit(RlimitNofile, out RLimit limit) != 0 || limit.Current > int.MaxValue)
        {
            return settings;
        }

        int spare = Math.Max(Minimum * 4, (int)limit.Current - Reserve);
        int inFlight = Math.Max(Minimum, spare * 2 / 3 / settings.Forwarder.MaxAttempts);
        int tcp = Math.Max(Minimum, spare / 3);
        if (inFlight >= settings.Pipeline.MaxInFlight && tcp >= settings.Tcp.MaxConnections)
        {
            return settings;
        }

        inFlight = Math.Min(inFlight, settings.Pipeline.MaxInFlight);
        tcp = Math.Min(tcp, settings.Tcp.MaxConnections);
        note = $"the open-file limit is {limit.Current}: at most {inFlight} questions in flight and {tcp} TCP clients";
        return settings with
        {
            Pipeline = settings.Pipeline with { MaxInFlight = inFlight },
            Tcp = settings.Tcp with { MaxConnections = tcp },
        };
    }
}
