using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>Carries one question to one upstream and returns the reply that matches it.</summary>
public interface IUpstreamTransport
{
    /// <exception cref="OperationCanceledException">No matching reply before <paramref name="cancellation"/>.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">A network error, e.g. ICMP port unreachable.</exception>
    /// <exception cref="IOException">A TCP connection was lost.</exception>
    Task<DnsResponseMessage> ExchangeAsync(UpstreamServer server, UpstreamQuestion question, CancellationToken cancellation);
}
