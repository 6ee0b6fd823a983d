using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>Carries one question to one upstream and returns the reply that matches it.</summary>
public interface IUpstreamTransport
{
    /// <exception cref="OperationCanceledException">No matching reply before <paramref name="cancellation"/>.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A network error, e.g. ICMP port unreachable.</exception>
    /// <exception cref="IOException">A TCP connection was lost.</exception>
    /// <param name="reactor">The reactor of the listener thread the question came from, or null (see <see cref="UdpReactor"/>).</param>
    ValueTask<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question, UdpReactor? reactor, CancellationToken cancellation);
}
