namespace NodeDns.Dnstap;

/// <summary>One queued dnstap message: a slot of <see cref="DnstapQueue"/>, reused for ever.</summary>
public sealed class DnstapEntry
{
    /// <summary>Messages up to this size are copied into the slot's own buffer; larger ones get an array of their own.</summary>
    public const int InlineCapacity = 512;

    private readonly byte[] _inline = new byte[InlineCapacity];

    /// <summary>The queue's turn counter for this slot (see <see cref="DnstapQueue"/>).</summary>
    internal long Sequence;

    public DnstapEntry(long sequence)
    {
        Sequence = sequence;
        Buffer = _inline;
    }

    public DnstapMessageTypes Type { get; private set; }
    public bool OverTcp { get; private set; }

    /// <summary>Who sent the query: the client, or NodeDns for a forwarded one.</summary>
    public DnstapPeer Initiator { get; private set; }

    /// <summary>Who answers it: NodeDns's listener for a client, or the upstream.</summary>
    public DnstapPeer Responder { get; private set; }

    /// <summary>When the message was received or sent, in 100 ns ticks since the Unix epoch.</summary>
    public long UnixTicks { get; private set; }

    public byte[] Buffer { get; private set; }
    public int Length { get; private set; }

    public ReadOnlySpan<byte> Message => Buffer.AsSpan(0, Length);

    internal bool IsOversize => Buffer != _inline;

    internal void Fill(DnstapMessageTypes type, bool overTcp, in DnstapPeer initiator, in DnstapPeer responder, ReadOnlySpan<byte> message,
        long unixTicks)
    {
        Type = type;
        OverTcp = overTcp;
        Initiator = initiator;
        Responder = responder;
        UnixTicks = unixTicks;
        Buffer = message.Length <= InlineCapacity ? _inline : new byte[message.Length];
        message.CopyTo(Buffer);
        Length = message.Length;
    }

    internal void Clear() => Buffer = _inline;
}
