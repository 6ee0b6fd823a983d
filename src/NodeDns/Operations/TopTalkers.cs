using System.Text.Json.Serialization;
using NodeDns.Daemon.Kubernetes;
using NodeDns.Protocol;
using NodeDns.Serving;

namespace NodeDns.Daemon.Operations;

/// <summary>One client in the top view: a pod of the node, or an address that is none.</summary>
/// <param name="ExpansionNxPerSuccess">NXDOMAIN answers to search-list expansions per successful lookup, to 2 decimals.</param>
public sealed record TopClient(string Client, string? Namespace, string? Pod, string Address, long Queries,
    [property: JsonPropertyName("nxdomain")] long NxDomain, long Misses, double ExpansionNxPerSuccess);

public sealed record TopName(string Name, long Queries, [property: JsonPropertyName("nxdomain")] long NxDomain);

/// <summary>The heaviest clients and names over the last window; counts are estimates (sampled, space-saving).</summary>
public sealed record TopReport(double WindowSeconds, int SampleEvery, IReadOnlyList<TopClient> Clients, IReadOnlyList<TopName> Names);

/// <summary>
/// Who is hammering DNS, in fixed memory: space-saving heavy-hitter tables (<see cref="Capacity"/> clients and as many
/// names) over a sliding window of two half-window generations, fed with one query in <see cref="SampleEvery"/> (the
/// low bits of its arrival timestamp choose it, so sampling costs no shared counter). The tables are updated under one
/// lock by sampled queries only; the hit path of unsampled queries does nothing here. Names are copied into buffers
/// allocated once, so recording allocates nothing.
/// </summary>
public sealed class TopTalkers(TimeProvider time, TimeSpan window, int sampleEvery)
{
    public const int Capacity = 64;
    public const int Shown = 20;

    private readonly Lock _lock = new();
    private Generation _current = new();
    private Generation _previous = new();
    private long _rotateAt = long.MinValue;

    public int SampleEvery => sampleEvery;

    /// <summary>Whether the query that arrived at <paramref name="receivedAt"/> is one of the sampled ones.</summary>
    public bool IsSampled(long receivedAt) => sampleEvery <= 1 || receivedAt % sampleEvery == 0;

    /// <summary>Counts one sampled query.</summary>
    /// <param name="expansion">An NXDOMAIN for a name under one of the pod's search domains (an ndots expansion).</param>
    public void Record(PodInfo? pod, ClientAddress address, ReadOnlySpan<byte> name, int rcode, AnswerSource source, bool expansion)
    {
        lock (_lock)
        {
            Rotate(time.GetTimestamp());
            ClientSlot client = _current.Client(pod, address);
            client.Queries++;
            client.NxDomain += rcode == DnsRcode.NxDomain ? 1 : 0;
            client.Misses += source == AnswerSource.Forward ? 1 : 0;
            client.Successes += rcode == DnsRcode.NoError ? 1 : 0;
            client.ExpansionNx += expansion ? 1 : 0;
            if (!name.IsEmpty)
            {
                NameSlot slot = _current.Name(name);
                slot.Queries++;
                slot.NxDomain += rcode == DnsRcode.NxDomain ? 1 : 0;
            }
        }
    }

    public TopReport Report()
    {
        lock (_lock)
        {
            Rotate(time.GetTimestamp());
            Generation[] both = [_current, _previous];
            TopClient[] clients = [.. both.SelectMany(g => g.Clients).Where(c => c.Queries > 0)
                .GroupBy(c => (c.Pod, c.Address))
                .Select(g => Client(g.Key.Pod, g.Key.Address, g.Sum(c => c.Queries), g.Sum(c => c.NxDomain), g.Sum(c => c.Misses),
                    g.Sum(c => c.Successes), g.Sum(c => c.ExpansionNx)))
                .OrderByDescending(c => c.Queries).Take(Shown)];
            TopName[] names = [.. both.SelectMany(g => g.Names).Where(n => n.Queries > 0)
                .GroupBy(n => n.Text, StringComparer.OrdinalIgnoreCase)
                .Select(g => new TopName(g.Key, g.Sum(n => n.Queries) * sampleEvery, g.Sum(n => n.NxDomain) * sampleEvery))
                .OrderByDescending(n => n.Queries).Take(Shown)];
            return new TopReport(window.TotalSeconds, sampleEvery, clients, names);
        }
    }

    private TopClient Client(PodInfo? pod, ClientAddress address, long queries, long nxDomain, long misses, long successes, long expansionNx) => new(
        pod is null ? AddressText(address) : $"{pod.Namespace}/{pod.Name}",
        pod?.Namespace,
        pod?.Name,
        AddressText(address),
        queries * sampleEvery,
        nxDomain * sampleEvery,
        misses * sampleEvery,
        Math.Round(successes == 0 ? expansionNx : (double)expansionNx / successes, 2));

    private static string AddressText(ClientAddress address) => address.ToIPAddress().ToString();

    /// <summary>Every half window the older generation is dropped: the view covers between a half and a whole window.</summary>
    private void Rotate(long now)
    {
        long half = (long)(window.TotalSeconds / 2 * time.TimestampFrequency);
        if (_rotateAt == long.MinValue)
        {
            _rotateAt = now + half;
        }

        while (now >= _rotateAt)
        {
            (_previous, _current) = (_current, _previous);
            _current.Clear();
            _rotateAt += half;
            if (now - _rotateAt > 2 * half)
            {
                _previous.Clear();
                _rotateAt = now + half;
            }
        }
    }

    private sealed class ClientSlot
    {
        public PodInfo? Pod;
        public ClientAddress Address;
        public long Queries;
        public long NxDomain;
        public long Misses;
        public long Successes;
        public long ExpansionNx;
    }

    private sealed class NameSlot
    {
        public readonly byte[] Name = new byte[DnsLimits.MaxNameLength];
        public int Length;
        public long Queries;
        public long NxDomain;

        public string Text => DnsName.ToText(Name.AsSpan(0, Length));
    }

    /// <summary>Space-saving tables: a new key takes a free slot, else the least counted one, inheriting its count.</summary>
    private sealed class Generation
    {
        public readonly ClientSlot[] Clients = [.. Enumerable.Range(0, Capacity).Select(_ => new ClientSlot())];
        public readonly NameSlot[] Names = [.. Enumerable.Range(0, Capacity).Select(_ => new NameSlot())];

        public ClientSlot Client(PodInfo? pod, ClientAddress address)
        {
            ClientSlot least = Clients[0];
            foreach (ClientSlot slot in Clients)
            {
                if (slot.Queries > 0 && ReferenceEquals(slot.Pod, pod) && slot.Address == address)
                {
                    return slot;
                }

                least = slot.Queries < least.Queries ? slot : least;
            }

            (least.Pod, least.Address) = (pod, address);
            (least.NxDomain, least.Misses, least.Successes, least.ExpansionNx) = (0, 0, 0, 0); // Queries stays: the error bound
            return least;
        }

        public NameSlot Name(ReadOnlySpan<byte> name)
        {
            NameSlot least = Names[0];
            foreach (NameSlot slot in Names)
            {
                if (slot.Queries > 0 && DnsName.EqualsIgnoreCase(slot.Name.AsSpan(0, slot.Length), name))
                {
                    return slot;
                }

                least = slot.Queries < least.Queries ? slot : least;
            }

            int length = Math.Min(name.Length, least.Name.Length);
            name[..length].CopyTo(least.Name);
            least.Length = length;
            least.NxDomain = 0;
            return least;
        }

        public void Clear()
        {
            foreach (ClientSlot slot in Clients)
            {
                (slot.Pod, slot.Queries, slot.NxDomain, slot.Misses, slot.Successes, slot.ExpansionNx) = (null, 0, 0, 0, 0, 0);
            }

            foreach (NameSlot slot in Names)
            {
                (slot.Length, slot.Queries, slot.NxDomain) = (0, 0, 0);
            }
        }
    }
}
