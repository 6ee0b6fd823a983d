using System.Net.Sockets;
using System.Runtime.InteropServices;
using static NodeDns.Interop.LinuxSocketCalls;

namespace NodeDns.Serving;

/// <summary>
/// Linux recvmmsg/sendmmsg for a UDP listener: up to <see cref="Batch"/> datagrams per system call each way, into
/// and out of preallocated, pinned buffers. Queries longer than <see cref="SlotLength"/> arrive flagged truncated
/// and are dropped; answers never exceed the 1232-byte UDP cap, which fits a slot.
/// </summary>
internal sealed unsafe class BatchedDatagrams : IDisposable
{
    public const int Batch = 32;
    public const int SlotLength = 4096;
    internal const int AddressLength = 128;

    private readonly byte* _memory;
    private readonly MMsgHdr* _received;
    private readonly MMsgHdr* _replies;
    private readonly IoVec* _receiveVectors;
    private readonly IoVec* _replyVectors;
    private readonly byte* _requests;
    private readonly byte* _responses;
    private readonly byte* _addresses;
    private int _replyCount;

    public BatchedDatagrams()
    {
        nuint size = (nuint)((Batch * sizeof(MMsgHdr) * 2) + (Batch * sizeof(IoVec) * 2) + (Batch * SlotLength * 2) + (Batch * AddressLength));
        _memory = (byte*)NativeMemory.AllocZeroed(size);
        byte* next = _memory;
        _received = (MMsgHdr*)next;
        next += Batch * sizeof(MMsgHdr);
        _replies = (MMsgHdr*)next;
        next += Batch * sizeof(MMsgHdr);
        _receiveVectors = (IoVec*)next;
        next += Batch * sizeof(IoVec);
        _replyVectors = (IoVec*)next;
        next += Batch * sizeof(IoVec);
        _requests = next;
        next += Batch * SlotLength;
        _responses = next;
        next += Batch * SlotLength;
        _addresses = next;
    }

    /// <summary>
    /// Takes up to <see cref="Batch"/> datagrams, after waiting for the first one when <paramref name="wait"/>;
    /// 0 on the receive timeout or when nothing is queued.
    /// </summary>
    /// <exception cref="SocketException">Any other error.</exception>
    public int Receive(Socket socket, bool wait)
    {
        for (int i = 0; i < Batch; i++)
        {
            _receiveVectors[i] = new IoVec { Base = _requests + (i * SlotLength), Length = SlotLength };
            _received[i] = new MMsgHdr
            {
                Header = new MsgHdr { Name = _addresses + (i * AddressLength), NameLength = AddressLength, Iov = _receiveVectors + i, IovLength = 1 },
            };
        }

        int count = RecvMMsg((int)socket.SafeHandle.DangerousGetHandle(), _received, Batch, wait ? MsgWaitForOne : MsgDontWait, null);
        if (count >= 0)
        {
            return count;
        }

        int error = Marshal.GetLastPInvokeError();
        return error is Interop.Errno.WouldBlock or Interop.Errno.Interrupted ? 0 : throw new SocketException(error); // the receive timeout, a signal
    }

    public ReadOnlySpan<byte> Request(int index) =>
        (_received[index].Header.Flags & MsgTrunc) != 0 ? [] : new ReadOnlySpan<byte>(_requests + (index * SlotLength), (int)_received[index].Length);

    public ReadOnlySpan<byte> Address(int index) => new(_addresses + (index * AddressLength), (int)_received[index].Header.NameLength);

    /// <summary>The buffer to write the answer to datagram <paramref name="index"/> into.</summary>
    public Span<byte> ResponseBuffer(int index) => new(_responses + (index * SlotLength), SlotLength);

    /// <summary>Queues the answer written into <see cref="ResponseBuffer"/> for the sender of datagram <paramref name="index"/>.</summary>
    public void QueueReply(int index, int length)
    {
        _replyVectors[_replyCount] = new IoVec { Base = _responses + (index * SlotLength), Length = (nuint)length };
        _replies[_replyCount] = new MMsgHdr
        {
            Header = new MsgHdr { Name = _addresses + (index * AddressLength), NameLength = _received[index].Header.NameLength, Iov = _replyVectors + _replyCount, IovLength = 1 },
        };
        _replyCount++;
    }

    /// <summary>Sends every queued answer; returns how many could not be sent.</summary>
    public int SendQueued(Socket socket)
    {
        int failed = SendAll((int)socket.SafeHandle.DangerousGetHandle(), _replies, _replyCount);
        SentCount = _replyCount;
        _replyCount = 0;
        return failed;
    }

    /// <summary>How many answers the last <see cref="SendQueued"/> sent; they can be read until the next receive.</summary>
    public int SentCount { get; private set; }

    /// <summary>The datagram that sent answer <paramref name="sent"/> (of <see cref="SentCount"/>) answers.</summary>
    public int SentFor(int sent) => (int)(((byte*)_replyVectors[sent].Base - _responses) / SlotLength);

    public ReadOnlySpan<byte> SentAnswer(int sent) => new(_replyVectors[sent].Base, (int)_replyVectors[sent].Length);

    public void Dispose() => NativeMemory.Free(_memory);
}
