using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace NodeDns.Daemon.Handoff;

/// <summary>
/// The hand-off conversation on the Unix socket, new instance (N) and old instance (O):
/// N "TAKEOVER 1\n"; O "SOCKETS kind endpoint;kind endpoint;...\n" with the descriptors attached; N "ACK\n";
/// O a 4-byte length and the cache snapshot; N "SERVING\n" once it answers queries on those sockets.
/// </summary>
public static class HandoffProtocol
{
    public static readonly byte[] Hello = "TAKEOVER 1\n"u8.ToArray();
    public static readonly byte[] Ack = "ACK\n"u8.ToArray();
    public static readonly byte[] Serving = "SERVING\n"u8.ToArray();

    public static string DescribeSockets(IEnumerable<(string Kind, IPEndPoint EndPoint)> sockets) =>
        "SOCKETS " + string.Join(';', sockets.Select(s => $"{s.Kind} {s.EndPoint}")) + "\n";

    public static IReadOnlyList<(string Kind, IPEndPoint EndPoint)> ParseSockets(string line)
    {
        if (!line.StartsWith("SOCKETS ", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"unexpected hand-off message '{line.Trim()}'");
        }

        return [.. line[8..].Trim().Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(part => part.Split(' ', 2))
            .Select(p => (p[0], IPEndPoint.Parse(p[1])))];
    }

    public static string ReadLine(Socket socket, TimeSpan timeout)
    {
        var line = new StringBuilder();
        byte[] one = new byte[1];
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        while (line.Length < 65536)
        {
            if (socket.Receive(one) == 0)
            {
                throw new EndOfStreamException("the other instance closed the hand-off connection");
            }

            if (one[0] == '\n')
            {
                return line.ToString();
            }

            line.Append((char)one[0]);
        }

        throw new InvalidDataException("hand-off message too long");
    }

    public static void SendBlock(Socket socket, byte[] data)
    {
        byte[] length = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        socket.Send(length);
        socket.Send(data);
    }

    public static byte[] ReceiveBlock(Socket socket, int maxLength)
    {
        byte[] length = ReceiveExactly(socket, 4);
        int size = BinaryPrimitives.ReadInt32BigEndian(length);
        return size >= 0 && size <= maxLength ? ReceiveExactly(socket, size) : throw new InvalidDataException($"hand-off block of {size} bytes");
    }

    private static byte[] ReceiveExactly(Socket socket, int count)
    {
        byte[] buffer = new byte[count];
        int read = 0;
        while (read < count)
        {
            int n = socket.Receive(buffer, read, count - read, SocketFlags.None);
            read += n > 0 ? n : throw new EndOfStreamException("the other instance closed the hand-off connection");
        }

        return buffer;
    }
}
