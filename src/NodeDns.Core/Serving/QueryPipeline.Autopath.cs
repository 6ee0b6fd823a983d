using System.Runtime.CompilerServices;
using NodeDns.Caching;
using NodeDns.Forwarding;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// Node-local autopath (the idea of CoreDNS's autopath plugin, which cannot work behind a node-local cache because it
/// never sees the pod's address). A pod under <c>ndots:5</c> asks <c>api.github.com.&lt;ns&gt;.svc.cluster.local</c>
/// first, then every other entry of its search list, then the bare name, one round trip after another. When the
/// question ends with the first entry of the asking pod's search list, NodeDns walks the rest itself, in that order,
/// through its own cache and upstreams, and answers with the first name that has records: a CNAME from the asked name
/// to it, then its records — where glibc's own walk would have stopped (it goes on through NXDOMAIN, NODATA and
/// SERVFAIL alike). When no name has records, the client gets exactly what a plain forwarder gives for the asked name
/// and walks on as usual. A found answer is cached per search list for the shortest remaining life of the names it
/// skipped and the one it found, so a name that comes to exist earlier in the list is seen when that ends.
/// </summary>
public sealed partial class QueryPipeline
{
    private readonly ISearchPaths? _searchPaths;

    /// <summary>
    /// The cached answer to this query. For a pod whose search list this question starts: the answer found for that list
    /// (<paramref name="autopathed"/>), else the asked name's own answer when it has records (the walk would stop there);
    /// anything else is a miss, so the list gets walked. For any other client: the asked name's answer.
    /// </summary>
    private bool TryGetCached(in ClientContext client, in QueryInfo info, Span<byte> key, long now, out CacheEntry entry, out bool autopathed)
    {
        autopathed = false;
        if (_searchPaths is not null && AutopathFor(client, info, key) is { } list)
        {
            int length = CacheKey.WriteAutopath(key, info.KeyLength, list.Id);
            if (_cache.TryGetFresh(key[..length], now, out entry))
            {
                autopathed = true;
                return true;
            }

            return _cache.TryGetFresh(key[..info.KeyLength], now, out entry) && entry.Kind == EntryKind.Positive;
        }

        return _cache.TryGetFresh(key[..info.KeyLength], now, out entry);
    }

    /// <summary>The search list whose first entry ends the question, when the client is a pod of this node.</summary>
    private SearchList? AutopathFor(in ClientContext client, in QueryInfo info, ReadOnlySpan<byte> key)
    {
        if (_searchPaths?.For(client.Address) is not { Domains.Count: > 0 } list)
        {
            return null;
        }

        ReadOnlySpan<byte> name = key[..info.NameLength];
        byte[] first = list.Domains[0];
        return name.Length > first.Length && DnsName.IsSubdomainOf(name, first) ? list : null;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ResolveWithAutopathAsync(ReadOnlyMemory<byte> query, QueryInfo info, ReadOnlyMemory<byte> key, ClientContext client,
        SearchList list, Memory<byte> answer, CancellationToken cancellation)
    {
        byte[] asked = key[..info.NameLength].ToArray();
        List<byte[]> candidates = Candidates(asked, list);
        long skippedExpireAt = long.MaxValue;
        ResponseTemplate? askedAnswer = null;
        for (int i = 0; i < candidates.Count; i++)
        {
            (ResponseTemplate? template, long expiresAt) = await ResolveCandidateAsync(candidates[i], info, client.Reactor, cancellation)
                .ConfigureAwait(false);
            if (i == 0)
            {
                if (template is null)
                {
                    return await ResolvePlainAsync(query, info, key, client, answer, cancellation).ConfigureAwait(false); // stale data, SERVFAIL
                }

                askedAnswer = template;
            }

            if (template is { Rcode: DnsRcode.NoError, AnswerCount: > 0 })
            {
                if (i == 0)
                {
                    return Respond(template, query.Span, info, key.Span, client, answer.Span, AnswerSource.Forward);
                }

                long validUntil = Math.Min(expiresAt, skippedExpireAt);
                uint ttl = (uint)Math.Max(0, (validUntil - _time.GetTimestamp()) / _time.TimestampFrequency);
                ResponseTemplate? chained = Chain(asked, candidates[i], template, info, ttl);
                if (chained is null)
                {
                    break;
                }

                if (ttl > 0)
                {
                    _cache.Insert(AutopathKey(key.Span, info, list), chained, EntryKind.Positive, ttl, zone: _router().Route(asked).Id);
                }

                Counters.Autopathed.Increment();
                Interlocked.Add(ref Counters.AutopathExpansionsSaved, i);
                return Respond(chained, query.Span, info, key.Span, client, answer.Span, AnswerSource.Forward);
            }

            skippedExpireAt = Math.Min(skippedExpireAt, expiresAt);
        }

        // Nothing found: remember that for this list too, as long as every name tried stays as it is, so repeats are hits.
        uint remaining = (uint)Math.Max(0, (skippedExpireAt - _time.GetTimestamp()) / _time.TimestampFrequency);
        if (remaining > 0)
        {
            _cache.Insert(AutopathKey(key.Span, info, list), askedAnswer!, EntryKind.Negative, remaining, zone: _router().Route(asked).Id);
        }

        return Respond(askedAnswer!, query.Span, info, key.Span, client, answer.Span, AnswerSource.Forward);
    }

    private static byte[] AutopathKey(ReadOnlySpan<byte> key, in QueryInfo info, SearchList list)
    {
        byte[] autopathKey = new byte[info.KeyLength + CacheKey.AutopathLength];
        key[..info.KeyLength].CopyTo(autopathKey);
        CacheKey.WriteAutopath(autopathKey, info.KeyLength, list.Id);
        return autopathKey;
    }

    /// <summary>The asked name, then its base under each further search domain, then the bare base, without repeats.</summary>
    private static List<byte[]> Candidates(byte[] asked, SearchList list)
    {
        ReadOnlySpan<byte> baseLabels = asked.AsSpan(0, asked.Length - list.Domains[0].Length);
        var candidates = new List<byte[]> { asked };
        foreach (byte[] domain in list.Domains.Skip(1).Append([0]))
        {
            byte[] candidate = [.. baseLabels, .. domain];
            if (candidate.Length <= DnsLimits.MaxNameLength && !candidates.Any(c => c.AsSpan().SequenceEqual(candidate)))
            {
                candidates.Add(candidate);
            }
        }

        return candidates;
    }

    /// <summary>Resolves one name of the walk as any client's question: from the cache, or joining or starting a forward.</summary>
    /// <returns>Its answer (null on failure) and when that stops being valid.</returns>
    private async Task<(ResponseTemplate? Template, long ExpiresAt)> ResolveCandidateAsync(byte[] name, QueryInfo asked, UdpReactor? reactor,
        CancellationToken cancellation)
    {
        byte[] query = CandidateQuery(name, asked);
        byte[] key = new byte[CacheKey.MaxLength];
        if (QueryParser.Parse(query, key, out QueryInfo info) != QueryVerdict.Resolve)
        {
            return (null, 0);
        }

        key = key[..info.KeyLength];
        long now = _time.GetTimestamp();
        if (_cache.TryGetFresh(key, now, out CacheEntry cached))
        {
            if (cached.Kind == EntryKind.Failure)
            {
                return (null, 0);
            }

            if (cached.TryCopyTemplate(out ResponseTemplate copy))
            {
                return (copy, cached.ExpiresAt);
            }
        }

        info.ReceivedAt = now;
        InFlightQuestion? question = Join(query, info, key, reactor, cancellation, wait: true);
        ResponseTemplate? template = null;
        if (question is not null)
        {
            await question;
            template = question.CopyAnswer();
            question.Release();
        }

        long expiresAt = template is not null && _cache.TryGetAny(key, out CacheEntry stored) && stored.IsData && stored.StoredAt >= now
            ? stored.ExpiresAt
            : now; // answered but not cached (TTL 0): nothing built on it may be cached either
        return (template, expiresAt);
    }

    /// <summary>The question for <paramref name="name"/> with the asked type, class, RD, CD and DO.</summary>
    private static byte[] CandidateQuery(byte[] name, in QueryInfo asked)
    {
        byte[] query = new byte[DnsLimits.HeaderLength + name.Length + 4 + DnsLimits.EmptyOptRecordLength];
        DnsHeader.SetFlags(query, (ushort)(DnsHeader.RdBit | (asked.Flags & DnsHeader.CdBit)));
        DnsHeader.SetCounts(query, 1, 0, 0, asked.HasOpt ? 1 : 0);
        name.CopyTo(query, DnsLimits.HeaderLength);
        int position = DnsLimits.HeaderLength + name.Length;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(position), asked.Type);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(query.AsSpan(position + 2), asked.Class);
        position += 4;
        return asked.HasOpt ? query[..(position + EdnsWriter.WriteOpt(query.AsSpan(position), asked.DnssecOk))] : query[..position];
    }

    /// <summary>The answer for <paramref name="asked"/>: a CNAME to <paramref name="found"/>, then the records found there.</summary>
    private static ResponseTemplate? Chain(byte[] asked, byte[] found, ResponseTemplate answer, in QueryInfo info, uint ttl)
    {
        byte[] wire = answer.Wire.ToArray();
        DnsHeader.SetFlags(wire, (ushort)(DnsHeader.QrBit | answer.Flags));
        if (!ResponseReader.TryRead(wire, out DnsResponseMessage message))
        {
            return null;
        }

        List<DnsRecord> records = [new DnsRecord(DnsSection.Answer, asked, DnsType.CNAME, DnsClass.IN, ttl, found), .. message.ToRecords()];
        return ResponseTemplateBuilder.Build(asked, info.Type, info.Class, DnsRcode.NoError, authenticData: false, records, ttl);
    }

    private int Respond(ResponseTemplate template, ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key, in ClientContext client,
        Span<byte> answer, AnswerSource source)
    {
        int length = template.Write(query, info, 0, Limit(info, client.OverTcp), answer);
        _observer?.Answered(client, _router().Route(key[..info.NameLength]).Id, QuestionName(query, info), info.Type,
            DnsHeader.Rcode(DnsHeader.Flags(answer)), source, info.ReceivedAt);
        return length;
    }
}
