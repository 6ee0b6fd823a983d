using System.Net.Sockets;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NodeDns.Caching;
using NodeDns.Daemon.Hosting;

namespace NodeDns.Daemon.Handoff;

/// <summary>
/// Zero-downtime replacement. Once DNS is served: tells the instance we took over from that we serve (it may then
/// stop reading and exit), and listens on --handoff-socket for our own successor, to which it passes the DNS, TCP
/// and HTTP listening sockets themselves (SCM_RIGHTS) and a snapshot of the cache. Sharing the sockets, rather than
/// binding new ones beside them, means nothing already queued on them is lost when the old instance exits.
/// </summary>
public sealed partial class HandoffService(
    BoundListeners listeners,
    ServingState state,
    HandoffState handoff,
    DnsCache cache,
    TimeProvider time,
    ILogger<HandoffService> logger) : BackgroundService
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (handoff.Takeover is { } takeover)
        {
            takeover.ReportServing();
            takeover.Dispose();
            LogServingAfterTakeover(takeover.Sockets.Count);
        }

        if (state.Settings.HandoffSocket is not { } path)
        {
            return;
        }

        File.Delete(path); // our predecessor's socket file, if any; it keeps its own listening socket until it exits
        using var server = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        server.Bind(new UnixDomainSocketEndPoint(path));
        server.Listen(1);
        LogListening(path);
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket successor;
            try
            {
                successor = await server.AcceptAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            using (successor)
            {
                try
                {
                    await Task.Run(() => HandOver(successor), stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or SocketException or InvalidDataException or TimeoutException or EndOfStreamException)
                {
                    LogHandoffFailed(e.Message);
                }
            }
        }
    }

    private void HandOver(Socket successor)
    {
        string hello = HandoffProtocol.ReadLine(successor, StepTimeout);
        if (hello != "TAKEOVER 1")
        {
            throw new InvalidDataException($"unexpected hand-off request '{hello}'");
        }

        var sockets = listeners.AllSockets().ToList();
        UnixFdPassing.Send(successor, System.Text.Encoding.ASCII.GetBytes(HandoffProtocol.DescribeSockets(sockets.Select(s => (s.Kind, s.EndPoint)))),
            [.. sockets.Select(s => (int)s.Socket.SafeHandle.DangerousGetHandle())]);
        if (HandoffProtocol.ReadLine(successor, StepTimeout) != "ACK")
        {
            throw new InvalidDataException("the successor did not acknowledge the sockets");
        }

        using var snapshot = new MemoryStream();
        CacheSnapshot.Save(cache, snapshot, time.GetUtcNow());
        HandoffProtocol.SendBlock(successor, snapshot.ToArray());
        LogHandedOver(sockets.Count, snapshot.Length);
        if (HandoffProtocol.ReadLine(successor, TimeSpan.FromSeconds(60)) == "SERVING")
        {
            state.SuccessorServing = true;
            LogSuccessorServing();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "hand-off: serving on {Sockets} sockets taken over from the previous instance")]
    private partial void LogServingAfterTakeover(int sockets);

    [LoggerMessage(Level = LogLevel.Information, Message = "hand-off: a successor can take over at {Path}")]
    private partial void LogListening(string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "hand-off: passed {Sockets} sockets and {Bytes} bytes of cache to a successor")]
    private partial void LogHandedOver(int sockets, long bytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "hand-off: the successor serves; on SIGTERM this instance stops reading at once and exits")]
    private partial void LogSuccessorServing();

    [LoggerMessage(Level = LogLevel.Warning, Message = "hand-off failed: {Reason}")]
    private partial void LogHandoffFailed(string reason);
}
