using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace NodeDns.Dnstap;

/// <summary>
/// The writer's side of a bidirectional Frame Streams connection (the framing dnstap uses): READY and ACCEPT agree on
/// the content type, START opens the stream, each data frame is a big-endian length and the payload, STOP and FINISH
/// close it. Control frames are an escape (a zero length), their length, their type and content-type fields.
/// </summary>
public static class FrameStream
{
    public const string DnstapContentType = "protobuf:dnstap.Dnstap";

    private const uint Accept = 0x01;
    private const uint Start = 0x02;
    private const uint Stop = 0x03;
    private const uint Ready = 0x04;
    private const uint Finish = 0x05;
    private const uint ContentTypeField = 0x01;
    private const int MaxControlFrame = 512;

    private static readonly byte[] ContentType = Encoding.ASCII.GetBytes(DnstapContentType);

    /// <summary>READY, then the reader's ACCEPT (which must offer our content type), then START.</summary>
    /// <exception cref="IOException">The reader did not accept dnstap, or sent something that is not Frame Streams.</exception>
    public static void Handshake(Socket socket)
    {
        SendControl(socket, Ready, withContentType: true);
        (uint type, bool offersDnstap) = ReceiveControl(socket);
        if (type != Accept || !offersDnstap)
        {
            throw new IOException($"the dnstap reader answered READY with control frame {type}{(offersDnstap ? "" : " without " + DnstapContentType)}");
        }

        SendControl(socket, Start, withContentType: true);
    }

    /// <summary>STOP, then waits (up to the socket's receive timeout) for the reader's FINISH.</summary>
    public static void Close(Socket socket)
    {
        SendControl(socket, Stop, withContentType: false);
        ReceiveControl(socket);
    }

    /// <summary>Writes a data frame's length prefix in front of a payload of <paramref name="length"/> bytes.</summary>
    public static void WriteDataFrameHeader(Span<byte> destination, int length) => BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)length);

    private static void SendControl(Socket socket, uint type, bool withContentType)
    {
        Span<byte> frame = stackalloc byte[12 + 8 + ContentType.Length];
        int length = 4 + (withContentType ? 8 + ContentType.Length : 0);
        BinaryPrimitives.WriteUInt32BigEndian(frame, 0); // escape: a control frame follows
        BinaryPrimitives.WriteUInt32BigEndian(frame[4..], (uint)length);
        BinaryPrimitives.WriteUInt32BigEndian(frame[8..], type);
        if (withContentType)
        {
            BinaryPrimitives.WriteUInt32BigEndian(frame[12..], ContentTypeField);
            BinaryPrimitives.WriteUInt32BigEndian(frame[16..], (uint)ContentType.Length);
            ContentType.CopyTo(frame[20..]);
        }

        SendAll(socket, frame[..(8 + length)]);
    }

    private static (uint Type, bool OffersDnstap) ReceiveControl(Socket socket)
    {
        Span<byte> header = stackalloc byte[8];
        ReceiveExactly(socket, header);
        uint escape = BinaryPrimitives.ReadUInt32BigEndian(header);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header[4..]);
        if (escape != 0 || length < 4 || length > MaxControlFrame)
        {
            throw new IOException("the dnstap reader did not send a Frame Streams control frame");
        }

        Span<byte> frame = stackalloc byte[(int)length];
        ReceiveExactly(socket, frame);
        uint type = BinaryPrimitives.ReadUInt32BigEndian(frame);
        bool offersDnstap = false;
        for (ReadOnlySpan<byte> fields = frame[4..]; fields.Length >= 8;)
        {
            uint field = BinaryPrimitives.ReadUInt32BigEndian(fields);
            int fieldLength = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(fields[4..]), (uint)(fields.Length - 8));
            offersDnstap |= field == ContentTypeField && fields.Slice(8, fieldLength).SequenceEqual(ContentType);
            fields = fields[(8 + fieldLength)..];
        }

        return (type, offersDnstap);
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data)..];
        }
    }

    private static void ReceiveExactly(Socket socket, Span<byte> destination)
    {
        while (!destination.IsEmpty)
        {
            int read = socket.Receive(destination);
            if (read == 0)
            {
                throw new IOException("the dnstap reader closed the connection");
            }

            destination = destination[read..];
        }
    }
}
