using System.Collections.Frozen;
using NodeDns.Serving;

namespace NodeDns.Daemon.Kubernetes;

/// <summary>
/// The pods of this node, as the watch last saw them, looked up by client address without a lock. Host-network
/// pods share the node's addresses and are never indexed by address. Bounded: beyond <see cref="MaxPods"/> further
/// pods are not kept (a node runs at most a few hundred). When the watch has been broken for longer than
/// <see cref="StaleAfter"/>, lookups find nothing, so clients fall back to plain forwarding.
/// </summary>
public sealed class NodePods(TimeProvider time)
{
    public const int MaxPods = 5000;
    public static readonly TimeSpan StaleAfter = TimeSpan.FromMinutes(5);

    private readonly Dictionary<string, PodInfo> _byUid = [];
    private readonly Lock _write = new();
    private volatile FrozenDictionary<ClientAddress, PodInfo> _byAddress = FrozenDictionary<ClientAddress, PodInfo>.Empty;
    private long _syncedAt = long.MinValue;

    /// <summary>Pods known, host-network ones included.</summary>
    public int Count
    {
        get
        {
            lock (_write)
            {
                return _byUid.Count;
            }
        }
    }

    /// <summary>Pods that were not kept because <see cref="MaxPods"/> was reached.</summary>
    public long Overflow { get; private set; }

    /// <summary>When the pods were last known to be current (a list, an event or a bookmark).</summary>
    public DateTimeOffset? LastSync => _syncedAt == long.MinValue ? null : time.GetUtcNow() - time.GetElapsedTime(_syncedAt);

    /// <summary>The pod that has <paramref name="address"/>, while the view is fresh; null otherwise.</summary>
    public PodInfo? Find(ClientAddress address) =>
        _byAddress.TryGetValue(address, out PodInfo? pod) && IsFresh ? pod : null;

    public bool IsFresh => _syncedAt != long.MinValue && time.GetElapsedTime(_syncedAt) < StaleAfter;

    /// <summary>Replaces every pod (after a list).</summary>
    public void ReplaceAll(IEnumerable<PodInfo> pods)
    {
        lock (_write)
        {
            _byUid.Clear();
            foreach (PodInfo pod in pods)
            {
                Keep(pod);
            }

            Publish();
        }
    }

    public void Upsert(PodInfo pod)
    {
        lock (_write)
        {
            Keep(pod);
            Publish();
        }
    }

    public void Remove(string uid)
    {
        lock (_write)
        {
            if (_byUid.Remove(uid))
            {
                Publish();
            }

            MarkSynced();
        }
    }

    /// <summary>The view is current as of now (a bookmark, or a watch that is open and quiet).</summary>
    public void MarkSynced() => Volatile.Write(ref _syncedAt, time.GetTimestamp());

    public IReadOnlyList<PodInfo> All()
    {
        lock (_write)
        {
            return [.. _byUid.Values];
        }
    }

    private void Keep(PodInfo pod)
    {
        if (_byUid.Count >= MaxPods && !_byUid.ContainsKey(pod.Uid))
        {
            Overflow++;
            return;
        }

        _byUid[pod.Uid] = pod;
    }

    private void Publish()
    {
        var byAddress = new Dictionary<ClientAddress, PodInfo>();
        foreach (PodInfo pod in _byUid.Values.Where(p => !p.HostNetwork))
        {
            foreach (System.Net.IPAddress ip in pod.Ips)
            {
                byAddress[ClientAddress.From(ip)] = pod;
            }
        }

        _byAddress = byAddress.ToFrozenDictionary();
        MarkSynced();
    }
}
