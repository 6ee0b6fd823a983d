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

    public UpstreamPool(IReadOnlyList<UpstreamServer> servers, UpstreamPolicy policy, int maxFails = 2)
        : this([.. servers.Select(s => new Upstream(s, maxFails))], policy)
    {
    }

    /// <summary>A pool of upstreams that may already have a health record (kept across a reload).</summary>
    public UpstreamPool(IReadOnlyList<Upstream> upstreams, UpstreamPolicy policy)
    {
        ArgumentOutOfRangeException.ThrowIfZero(upstreams.Count);
        Upstreams = upstreams;
        Policy = policy;
    }

    public IReadOnlyList<Upstream> Upstreams { get; }
    public IEnumerable<UpstreamServer> Servers => Upstreams.Select(u => u.Server);
    public UpstreamPolicy Policy { get; }
    /// <summary>Whether every upstream is marked down (asked once per forwarded question: a loop, not LINQ).</summary>
    public bool AllDown
    {
        get
        {
            for (int i = 0; i < Upstreams.Count; i++) // foreach over the interface would allocate an enumerator
            {
                if (!Upstreams[i].IsDown)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>
    /// The index of the first server to try for a new query; further tries take the following ones. The random policy
    /// spreads load and needs no secret randomness (query IDs and source ports do: <see cref="SecureRandom"/>).
    /// </summary>
    public int FirstIndex() => Policy switch
    {
        UpstreamPolicy.Sequential => 0,
        UpstreamPolicy.RoundRobin => (int)((uint)Interlocked.Increment(ref _next) % (uint)Upstreams.Count),
        _ => Upstreams.Count == 1 ? 0 : Random.Shared.Next(Upstreams.Count),
    };

    /// <summary>
    /// The upstream for try number <paramref name="attempt"/>: healthy ones in policy order first, then the ones
    /// marked down, so a zone whose upstreams are all down still tries one rather than failing everything.
    /// </summary>
    public Upstream ForAttempt(int first, int attempt)
    {
        int count = Upstreams.Count;
        int healthy = 0;
        for (int i = 0; i < count; i++)
        {
            healthy += Upstreams[i].IsDown ? 0 : 1;
        }

        int wanted = attempt % count;
        bool fromHealthy = healthy > 0 && wanted < healthy;
        int skip = fromHealthy ? wanted : wanted - healthy;
        for (int i = 0; i < count; i++)
        {
            Upstream candidate = Upstreams[(first + i) % count];
            if (candidate.IsDown != fromHealthy && skip-- == 0)
            {
                return candidate;
            }
        }

        return Upstreams[(first + attempt) % count];
    }
}
