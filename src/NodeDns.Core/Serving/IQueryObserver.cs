using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>Which part of the daemon produced an answer (CoreDNS's <c>plugin</c> label).</summary>
public enum AnswerSource : byte
{
    /// <summary>An error response to a malformed or refused query, or an answer made here (RFC 8482 for ANY over UDP).</summary>
    Error,

    /// <summary>From the cache: a hit, a cached failure, or stale data.</summary>
    Cache,

    /// <summary>From an upstream, or SERVFAIL because the upstreams failed.</summary>
    Forward,
}

/// <summary>Told about every answered query; the metrics layer implements it without per-query allocation.</summary>
public interface IQueryObserver
{
    /// <param name="zone">The zone the question belongs to; <see cref="ZoneId.Root"/> also when the query did not parse that far.</param>
    /// <param name="name">The question name in wire form as the client sent it; empty when the query did not parse that far.</param>
    /// <param name="receivedAt">The <see cref="TimeProvider.GetTimestamp"/> at which processing began.</param>
    void Answered(in ClientContext client, ZoneId zone, ReadOnlySpan<byte> name, ushort type, int rcode, AnswerSource source, long receivedAt);
}
