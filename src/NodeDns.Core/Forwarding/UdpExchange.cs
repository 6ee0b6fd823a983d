using System.Buffers;
using System.Net.Sockets;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>One UDP query on a fresh connected socket, closed when it completes (RFC 5452; SAD DNS).</summary>
internal static class UdpExchange
{
    /// <summary>
    /// Sends the question and waits for a reply that matches it; non-matching datagrams (wrong ID, wrong question,
    /// garbage) are counted and ignored while the wait goes on (TuDoor, CP-03, CP-04).
    /// </summary>
    public static async Task<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question,
        ForwarderCounters counters, CancellationToken cancellation)
    {
        using Socket socket = UpstreamSockets.ConnectedUdp(server.EndPoint);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(DnsLimits.MaxMessageLength);
        try
        {
            ushort id = UpstreamQuestion.NewId();
            int length = question.WriteQuery(id, buffer);
            await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellation).ConfigureAwait(false);
            while (true)
            {
                int received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellation).ConfigureAwait(false);
                if (question.TryAccept(buffer.AsSpan(0, received), id, out DnsResponseMessage response))
                {
                    return response;
                }

                Interlocked.Increment(ref counters.RejectedReplies);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
