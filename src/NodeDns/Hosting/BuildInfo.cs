using System.Reflection;

namespace NodeDns.Daemon.Hosting;

public static class BuildInfo
{
    private static readonly string Informational =
        typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The version without the source revision the SDK appends after '+'.</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    public static string Revision { get; } = Informational.Contains('+', StringComparison.Ordinal) ? Informational.Split('+')[1] : "";
}
