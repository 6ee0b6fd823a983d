using System.Buffers;
using System.Net.Sockets;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>One UDP query on a fresh connected socket, closed when it completes (RFC 5452; SAD DNS).</summary>
internal static class UdpExchange
{
    /// <summary>
    /// Receive buffer per query. We advertise 1232 bytes (EDNS); a larger datagram from a misbehaving upstream
    /// (UR-06) is not truncated into a wrong parse but reported as too big, and the caller retries over TCP.
    /// Kept small because every outstanding miss holds one.
    /// </summary>
    private const int ReceiveBufferLength = 4096;

    /// <summary>
    /// Sends the question and waits for a reply that matches it; non-matching datagrams (wrong ID, wrong question,
    /// garbage) are counted and ignored while the wait goes on (TuDoor, CP-03, CP-04).
    /// </summary>
    /// <returns>The reply, or null when a datagram was too big for the receive buffer.</returns>
    public static async Task<DnsResponseMessage?> ExchangeAsync(UpstreamServer server, UpstreamQuestion question,
        ForwarderCounters counters, CancellationToken cancellation)
    {
        using Socket socket = UpstreamSockets.ConnectedUdp(server.EndPoint);
        byte[] buffer = ArrayPool<byte>.Shared.Rent(ReceiveBufferLength + 1);
        try
        {
            ushort id = UpstreamQuestion.NewId();
            int length = question.WriteQuery(id, buffer);
            await socket.SendAsync(buffer.AsMemory(0, length), SocketFlags.None, cancellation).ConfigureAwait(false);
            while (true)
            {
                int received;
                try
                {
                    // One spare byte: the kernel silently cuts a longer datagram, so filling it means "too big".
                    received = await socket.ReceiveAsync(buffer.AsMemory(0, ReceiveBufferLength + 1), SocketFlags.None, cancellation)
                        .ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.MessageSize)
                {
                    return null;
                }

                if (received > ReceiveBufferLength)
                {
                    return null;
                }

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
