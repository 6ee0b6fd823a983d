using System.Collections.Concurrent;
using System.Net;
using System.Runtime.CompilerServices;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// The real transport: UDP on a fresh random-port socket per query, retried over TCP when the reply is truncated
/// (unless the upstream is UDP-only); TCP-only upstreams share one pipelined connection each.
/// </summary>
public sealed class NetworkTransport(ForwarderCounters counters) : IUpstreamTransport, IAsyncDisposable
{
    private readonly ConcurrentDictionary<IPEndPoint, TcpUpstreamClient> _tcpClients = new();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question, UdpReactor? reactor,
        CancellationToken cancellation)
    {
        if (server.Transport == UpstreamTransport.Tcp)
        {
            return await TcpClient(server).ExchangeAsync(question, cancellation).ConfigureAwait(false);
        }

        // A listener thread's reactor serves the tries started on that thread; later tries (timers) use the shared one.
        UdpReactor via = reactor is { IsOwnerThread: true } ? reactor : UdpReactor.Shared;
        DnsResponseMessage? response = await via.ExchangeAsync(server.EndPoint, question, counters, cancellation).ConfigureAwait(false);
        if (response is { Truncated: false } || (response is not null && server.Transport == UpstreamTransport.UdpOnly))
        {
            return response;
        }

        if (server.Transport == UpstreamTransport.UdpOnly)
        {
            throw new IOException($"{server} sent a UDP answer larger than we accept, and it is configured UDP-only");
        }

        response?.Return();
        Interlocked.Increment(ref counters.TcpRetriesAfterTruncation);
        return await TcpClient(server).ExchangeAsync(question, cancellation).ConfigureAwait(false);
    }

    private TcpUpstreamClient TcpClient(UpstreamServer server) =>
        _tcpClients.GetOrAdd(server.EndPoint, _ => new TcpUpstreamClient(server, counters));

    public async ValueTask DisposeAsync()
    {
        foreach (TcpUpstreamClient client in _tcpClients.Values)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
