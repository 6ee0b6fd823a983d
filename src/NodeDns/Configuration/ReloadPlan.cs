namespace NodeDns.Daemon.Configuration;

/// <summary>
/// What a reload changes: the settings to run with from now on, which changed options are applied, and which changed
/// options need a restart (their running values are kept, so the settings in effect never claim what is not).
/// </summary>
public sealed record ReloadPlan(DaemonSettings Effective, IReadOnlyList<OptionSpec> Applied, IReadOnlyList<OptionSpec> NeedRestart)
{
    public static ReloadPlan For(DaemonSettings running, DaemonSettings loaded)
    {
        List<OptionSpec> changed = [.. OptionCatalog.All.Where(o => o != OptionCatalog.Config && o.Show(running) != o.Show(loaded))];
        return new ReloadPlan(
            KeepRunning(running, loaded),
            [.. changed.Where(o => o.Reload == ReloadBehaviour.Applied)],
            [.. changed.Where(o => o.Reload == ReloadBehaviour.NeedsRestart)]);
    }

    /// <summary><paramref name="loaded"/> with the running values of every option that needs a restart.</summary>
    private static DaemonSettings KeepRunning(DaemonSettings running, DaemonSettings loaded) => loaded with
    {
        Listen = running.Listen,
        Metrics = running.Metrics,
        UdpSockets = running.UdpSockets,
        UpstreamIoUring = running.UpstreamIoUring,
        NodeNetwork = running.NodeNetwork,
        SetupInterface = running.SetupInterface,
        SetupFirewall = running.SetupFirewall,
        SyncInterval = running.SyncInterval,
        ExtraHttp = running.ExtraHttp,
        PidFile = running.PidFile,
        SnapshotFile = running.SnapshotFile,
        HandoffSocket = running.HandoffSocket,
        LockFile = running.LockFile,
        LogFormat = running.LogFormat,
        PodWatch = running.PodWatch,
        Kubeconfig = running.Kubeconfig,
        NodeName = running.NodeName,
        ClusterDomain = running.ClusterDomain,
        TopSample = running.TopSample,
        Dnstap = running.Dnstap,
        Autopath = running.Autopath,
        HostResolvConf = running.HostResolvConf,
        ConfigFile = running.ConfigFile,
        WatchedFiles = running.WatchedFiles,
    };
}
