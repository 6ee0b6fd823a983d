namespace NodeDns.Daemon.Configuration;

/// <summary>Whether a reload applies a changed value of an option while the daemon runs.</summary>
public enum ReloadBehaviour
{
    Applied,
    NeedsRestart,
}

/// <summary>
/// One option of <c>nodedns serve</c>, declared once: its name (which also gives the <c>NODEDNS_*</c> variable), its
/// JSON key, help text, how a value is parsed and validated and where it goes in <see cref="DaemonSettings"/>, how the
/// value in effect is written back (which gives the default shown in help and README, and what a reload compares),
/// and whether a reload applies it.
/// </summary>
public sealed class OptionSpec
{
    public required string Name { get; init; }
    public required string JsonKey { get; init; }
    public required string Help { get; init; }
    public ReloadBehaviour Reload { get; init; } = ReloadBehaviour.Applied;
    public bool Repeatable { get; init; }
    public bool IsSwitch { get; init; }

    /// <summary>Puts a parsed, validated value into the settings being built; null for <c>--config</c>, read first.</summary>
    public Func<DaemonSettings, RawValue, DaemonSettings>? Apply { get; init; }

    /// <summary>The value in effect, written as the option would be given.</summary>
    public required Func<DaemonSettings, string> Show { get; init; }

    /// <summary>The default in words, where it is not a fixed value (e.g. "CPU count").</summary>
    public string? DefaultDescription { get; init; }

    public string Default => DefaultDescription ?? Show(DaemonSettings.Defaults);
    public string Flag => "--" + Name;
    public string EnvironmentVariable => "NODEDNS_" + Name.Replace('-', '_').ToUpperInvariant();

    public override string ToString() => Flag;
}
