using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Daemon.Configuration;
using NodeDns.Daemon.Operations;
using NodeDns.Node.Network;

namespace NodeDns.Daemon.Hosting;

/// <summary>
/// With --setup-interface and/or --setup-iptables: sets up the link-local interface and the conntrack-bypass rules
/// once the listeners are bound (they are bound before the host starts, with IP_FREEBIND), re-checks them every sync
/// interval and repairs what was removed (counting coredns_nodecache_setup_errors_total), and removes them on a
/// graceful exit unless --skip-teardown. It stops after the DNS listeners have closed.
/// </summary>
public sealed partial class NodeNetworkService(ServingState state, DnsMetrics metrics, TimeProvider time, ILogger<NodeNetworkService> logger)
    : BackgroundService
{
    private NodeNetwork? _network;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DaemonSettings settings = state.Settings;
        if (settings.NodeNetwork is not { } options || !(settings.SetupInterface || settings.SetupFirewall))
        {
            return;
        }

        _network = new NodeNetwork(options with
        {
            SetupInterface = settings.SetupInterface,
            Firewall = settings.SetupFirewall ? options.Firewall : FirewallBackend.None,
        }, new CommandRunner(), LogNote);
        using var timer = new PeriodicTimer(settings.SyncInterval, time);
        bool first = true;
        do
        {
            NetworkSyncResult result = await Task.Run(_network.Ensure, stoppingToken).ConfigureAwait(false);
            foreach (NetworkSetupException error in result.Errors)
            {
                metrics.NodeCacheSetupErrors.WithLabels(error.ErrorType).Inc();
                LogSetupError(error.ErrorType, error.Message);
            }

            if (first && result.Errors.Count == 0)
            {
                LogReady(string.Join(", ", options.LocalIps), options.InterfaceName, _network.Rules.Count);
            }
            else if (!first && (result.InterfaceRepaired || result.RulesAdded > 0))
            {
                LogRepaired(result.InterfaceRepaired, result.RulesAdded);
            }

            first = false;
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_network is null || state.Settings.SkipTeardown || state.SuccessorServing)
        {
            return; // a successor that took over our sockets also keeps the interface and rules
        }

        foreach (NetworkSetupException error in _network.Teardown())
        {
            LogSetupError(error.ErrorType, error.Message);
        }

        LogTornDown();
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void LogNote(string message) => LogInformation(message);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Message}")]
    private partial void LogInformation(string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "node network ready: {Addresses} on {Interface}, {Rules} conntrack-bypass rules")]
    private partial void LogReady(string addresses, string @interface, int rules);

    [LoggerMessage(Level = LogLevel.Warning, Message = "node network repaired: interface recreated={Interface}, rules re-added={Rules}")]
    private partial void LogRepaired(bool @interface, int rules);

    [LoggerMessage(Level = LogLevel.Error, Message = "node network setup failed ({ErrorType}): {Message}")]
    private partial void LogSetupError(string errorType, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "node network torn down")]
    private partial void LogTornDown();
}
