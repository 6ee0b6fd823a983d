using System.Net;
using System.Net.Sockets;

namespace NodeDns.Daemon.Handoff;

/// <summary>One listening socket received from the instance being replaced.</summary>
public sealed record SharedSocket(string Kind, IPEndPoint EndPoint, Socket Socket)
{
    public const string Udp = "udp";
    public const string Tcp = "tcp";
    public const string Http = "http";
}

/// <summary>What a new instance received from the one it replaces: its sockets, its cache, and the line to tell it "serving".</summary>
public sealed class Takeover(IReadOnlyList<SharedSocket> sockets, byte[] snapshot, Socket connection) : IDisposable
{
    private readonly HashSet<Socket> _claimed = [];

    public IReadOnlyList<SharedSocket> Sockets { get; } = sockets;
    public byte[] Snapshot { get; } = snapshot;

    /// <summary>Takes the sockets of <paramref name="kind"/> at <paramref name="endPoint"/>, if the old instance had them.</summary>
    public Socket[] Claim(string kind, IPEndPoint endPoint)
    {
        Socket[] claimed = [.. Sockets.Where(s => s.Kind == kind && s.EndPoint.Equals(endPoint)).Select(s => s.Socket)];
        _claimed.UnionWith(claimed);
        return claimed;
    }

    /// <summary>Tells the old instance that this one serves; from then on it may close its copies and exit.</summary>
    public void ReportServing()
    {
        connection.Send(HandoffProtocol.Serving);
        connection.Dispose();
    }

    /// <summary>Closes our copies of sockets we did not take over (the old instance still has its own until it exits).</summary>
    public void Dispose()
    {
        foreach (SharedSocket shared in Sockets.Where(s => !_claimed.Contains(s.Socket)))
        {
            shared.Socket.Dispose();
        }
    }
}
