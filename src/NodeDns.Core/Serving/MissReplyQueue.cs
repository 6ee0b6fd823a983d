using System.Net.Sockets;
using System.Runtime.InteropServices;
using NodeDns.Protocol;
using static NodeDns.Interop.LinuxSocketCalls;

namespace NodeDns.Serving;

/// <summary>
/// Answers to misses that complete on a UDP listener's own thread, held until the end of its loop turn and sent
/// with one sendmmsg: fewer system calls, and a client woken once for a burst rather than once per answer.
/// Owned by that thread; anything that does not fit (queue full, called from another thread) is sent at once by the
/// caller.
/// </summary>
internal sealed unsafe class MissReplyQueue : IDisposable
{
    private const int Capacity = 64;
    private const int SlotLength = DnsLimits.EdnsUdpPayload;
    private const int AddressLength = 128;

    private readonly Socket _socket;
    private readonly byte* _memory;
    private readonly MMsgHdr* _messages;
    private readonly IoVec* _vectors;
    private readonly byte* _payloads;
    private readonly byte* _addresses;
    private readonly int _ownerThread = Environment.CurrentManagedThreadId;
    private int _count;

    private MissReplyQueue(Socket socket)
    {
        _socket = socket;
        nuint size = (nuint)((Capacity * sizeof(MMsgHdr)) + (Capacity * sizeof(IoVec)) + (Capacity * SlotLength) + (Capacity * AddressLength));
        _memory = (byte*)NativeMemory.AllocZeroed(size);
        _messages = (MMsgHdr*)_memory;
        _vectors = (IoVec*)(_memory + (Capacity * sizeof(MMsgHdr)));
        _payloads = (byte*)(_vectors + Capacity);
        _addresses = _payloads + (Capacity * SlotLength);
    }

    /// <summary>Creates the queue of the calling listener thread, which sends on <paramref name="socket"/>.</summary>
    public static MissReplyQueue CreateForThisThread(Socket socket) => new(socket);

    /// <summary>Whether the calling thread is the listener thread that owns this queue.</summary>
    public bool IsOwnerThread => Environment.CurrentManagedThreadId == _ownerThread;

    /// <summary>
    /// Queues <paramref name="response"/> for <paramref name="client"/> (a raw sockaddr) when called on the owning
    /// listener thread and there is room; false otherwise.
    /// </summary>
    public bool TryQueue(ReadOnlySpan<byte> response, ReadOnlySpan<byte> client)
    {
        if (!IsOwnerThread || _count == Capacity || response.Length > SlotLength || client.Length > AddressLength)
        {
            return false;
        }

        int index = _count++;
        byte* payload = _payloads + (index * SlotLength);
        byte* address = _addresses + (index * AddressLength);
        response.CopyTo(new Span<byte>(payload, SlotLength));
        client.CopyTo(new Span<byte>(address, AddressLength));
        _vectors[index] = new IoVec { Base = payload, Length = (nuint)response.Length };
        _messages[index] = new MMsgHdr
        {
            Header = new MsgHdr { Name = address, NameLength = (uint)client.Length, Iov = _vectors + index, IovLength = 1 },
        };
        return true;
    }

    /// <summary>Sends what is queued; returns how many answers the kernel refused.</summary>
    public int Flush()
    {
        int failed = SendAll((int)_socket.SafeHandle.DangerousGetHandle(), _messages, _count);
        _count = 0;
        return failed;
    }

    public void Dispose()
    {
        NativeMemory.Free(_memory);
    }
}
