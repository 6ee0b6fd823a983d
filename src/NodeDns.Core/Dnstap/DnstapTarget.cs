using System.Net;
using System.Net.Sockets;

namespace NodeDns.Dnstap;

/// <summary>Where dnstap goes: <c>unix:PATH</c> (a Unix socket a reader listens on) or <c>tcp:IP:PORT</c>.</summary>
public sealed record DnstapTarget(EndPoint EndPoint, string Text)
{
    public static bool TryParse(string text, out DnstapTarget? target, out string error)
    {
        target = null;
        error = "";
        if (text.StartsWith("unix:", StringComparison.Ordinal) && text.Length > "unix:".Length)
        {
            string path = text["unix:".Length..];
            if (!Path.IsPathFullyQualified(path) || path.Length > 107)
            {
                error = $"'{text}': the socket path must be absolute and at most 107 bytes";
                return false;
            }

            target = new DnstapTarget(new UnixDomainSocketEndPoint(path), text);
            return true;
        }

        if (text.StartsWith("tcp:", StringComparison.Ordinal) && IPEndPoint.TryParse(text["tcp:".Length..], out IPEndPoint? endPoint) && endPoint.Port != 0)
        {
            target = new DnstapTarget(endPoint, text);
            return true;
        }

        error = $"'{text}' is not unix:PATH or tcp:IP:PORT";
        return false;
    }

    public Socket NewSocket() => EndPoint is UnixDomainSocketEndPoint
        ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
        : new Socket(EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };

    public override string ToString() => Text;
}
