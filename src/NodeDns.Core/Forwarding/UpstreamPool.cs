using System.Security.Cryptography;

namespace NodeDns.Forwarding;

public enum UpstreamPolicy : byte
{
    Random,
    RoundRobin,
    Sequential,
}

/// <summary>The upstreams of one zone and the order in which a query tries them.</summary>
public sealed class UpstreamPool
{
    private int _next;

    public UpstreamPool(IReadOnlyList<UpstreamServer> servers, UpstreamPolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfZero(servers.Count);
        Servers = servers;
        Policy = policy;
    }

    public IReadOnlyList<UpstreamServer> Servers { get; }
    public UpstreamPolicy Policy { get; }

    /// <summary>The index of the first server to try for a new query; further tries take the following ones.</summary>
    public int FirstIndex() => Policy switch
    {
        UpstreamPolicy.Sequential => 0,
        UpstreamPolicy.RoundRobin => (int)((uint)Interlocked.Increment(ref _next) % (uint)Servers.Count),
        _ => Servers.Count == 1 ? 0 : RandomNumberGenerator.GetInt32(Servers.Count),
    };

    public UpstreamServer ForAttempt(int first, int attempt) => Servers[(first + attempt) % Servers.Count];
}
