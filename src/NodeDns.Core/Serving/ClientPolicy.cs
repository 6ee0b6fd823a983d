using System.Collections.Concurrent;

namespace NodeDns.Serving;

public sealed record ClientPolicyOptions
{
    /// <summary>
    /// Loopback, link-local, RFC 1918, shared address space (100.64.0.0/10, used for pods by some CNIs) and
    /// unique-local (fc00::/7): where a node's pods and the node itself ask from. Never a public address.
    /// </summary>
    public static readonly IReadOnlyList<string> DefaultAllowed =
        ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7"];

    public IReadOnlyList<AddressPrefix> Allowed { get; init; } = [.. DefaultAllowed.Select(p => AddressPrefix.TryParse(p, out AddressPrefix a) ? a : default)];

    /// <summary>Misses per second one client may cause (token bucket); 0 turns the limit off. Loopback is never limited.</summary>
    public double MissesPerSecond { get; init; } = 500;

    /// <summary>Bucket size: how many misses a client may cause at once.</summary>
    public double MissBurst { get; init; } = 1000;

    /// <summary>Clients tracked for the rate limit at once; the least recently seen are forgotten beyond it.</summary>
    public int MaxTrackedClients { get; init; } = 100_000;
}

/// <summary>
/// Who may ask and how fast: an allow-list of prefixes (everyone else gets REFUSED, so NodeDns is never an open
/// resolver on a node's public address) and a per-client token bucket on cache misses, so that one noisy pod cannot
/// starve the others' upstream capacity while cache hits stay fast for everyone.
/// </summary>
public sealed class ClientPolicy(ClientPolicyOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<ClientAddress, Bucket> _buckets = new();

    // An array, not the options' IReadOnlyList: enumerating an interface would allocate on every query.
    private volatile AddressPrefix[] _allowed = [.. options.Allowed];
    private volatile ClientPolicyOptions _options = options;

    public ClientPolicyOptions Options => _options;
    public long Refused;
    public long RateLimited;

    /// <summary>
    /// Applies new options (a reload): the allow-list at once, the rate and burst from each client's next miss; the
    /// tokens a client has left are kept, up to the new burst.
    /// </summary>
    public void Reconfigure(ClientPolicyOptions options)
    {
        _allowed = [.. options.Allowed];
        _options = options;
    }

    /// <summary>Allocation-free check of the allow-list.</summary>
    public bool IsAllowed(ClientAddress client)
    {
        AddressPrefix[] allowed = _allowed;
        foreach (AddressPrefix prefix in allowed)
        {
            if (prefix.Contains(client))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Takes one miss token from the client's bucket; false when it is empty.</summary>
    public bool TryTakeMiss(ClientAddress client)
    {
        ClientPolicyOptions options = _options;
        if (options.MissesPerSecond <= 0 || client.IsLoopback)
        {
            return true;
        }

        if (_buckets.Count >= options.MaxTrackedClients && !_buckets.ContainsKey(client))
        {
            ForgetIdle(options);
        }

        Bucket bucket = _buckets.GetOrAdd(client, static (_, state) => new Bucket(state.MissBurst, state.Now), (options.MissBurst, Now: time.GetTimestamp()));
        lock (bucket)
        {
            long now = time.GetTimestamp();
            double refill = (now - bucket.LastRefill) / (double)time.TimestampFrequency * options.MissesPerSecond;
            bucket.Tokens = Math.Min(options.MissBurst, bucket.Tokens + refill);
            bucket.LastRefill = now;
            if (bucket.Tokens < 1)
            {
                Interlocked.Increment(ref RateLimited);
                return false;
            }

            bucket.Tokens--;
            return true;
        }
    }

    private void ForgetIdle(ClientPolicyOptions options)
    {
        long horizon = time.GetTimestamp() - (10 * time.TimestampFrequency);
        foreach ((ClientAddress client, Bucket bucket) in _buckets)
        {
            if (bucket.LastRefill < horizon || _buckets.Count >= options.MaxTrackedClients)
            {
                _buckets.TryRemove(client, out _);
            }
        }
    }

    private sealed class Bucket(double tokens, long lastRefill)
    {
        public double Tokens = tokens;
        public long LastRefill = lastRefill;
    }
}
