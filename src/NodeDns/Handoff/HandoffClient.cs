using System.Net.Sockets;
using System.Text;

namespace NodeDns.Daemon.Handoff;

/// <summary>The new instance's side: asks the running instance for its sockets and cache.</summary>
public static class HandoffClient
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int MaxSnapshot = 512 << 20;

    /// <returns>The takeover, or null when no instance listens on <paramref name="path"/>.</returns>
    public static Takeover? TryTakeOver(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        var connection = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            connection.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            connection.Dispose();
            return null; // a stale socket file: nobody to take over from
        }

        try
        {
            connection.Send(HandoffProtocol.Hello);
            var descriptors = new List<int>();
            var header = new StringBuilder();
            byte[] buffer = new byte[65536];
            while (!header.ToString().EndsWith('\n'))
            {
                int read = UnixFdPassing.Receive(connection, buffer, descriptors, Timeout);
                header.Append(Encoding.ASCII.GetString(buffer, 0, read > 0 ? read : throw new EndOfStreamException("hand-off closed early")));
            }

            IReadOnlyList<(string Kind, System.Net.IPEndPoint EndPoint)> described = HandoffProtocol.ParseSockets(header.ToString());
            if (described.Count != descriptors.Count)
            {
                throw new InvalidDataException($"{described.Count} sockets described but {descriptors.Count} received");
            }

            SharedSocket[] sockets = [.. described.Select((d, i) => new SharedSocket(d.Kind, d.EndPoint, new Socket(new SafeSocketHandle(descriptors[i], ownsHandle: true))))];
            connection.Send(HandoffProtocol.Ack);
            byte[] snapshot = HandoffProtocol.ReceiveBlock(connection, MaxSnapshot);
            return new Takeover(sockets, snapshot, connection);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
