using System.Net;
using System.Net.Sockets;
using NodeDns.Interop;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>
/// The io_uring path of a listener thread's reactor. An upstream query is one chain of linked requests on a ring slot
/// (a direct descriptor plus buffers): socket, bind to a CSPRNG port, connect, send, receive. The chains of a loop
/// turn reach the kernel in one <c>io_uring_enter</c> with the turn's other sends, and a reply is read by the kernel
/// into the slot's buffer: no epoll registration, no descriptor in the process table, and per query none of the six
/// system calls the socket path makes (socket, bind, connect, epoll_ctl, recv, close). Only failures of the set-up
/// steps post completions. Used for the queries the owning thread starts; the kernel needs socket and bind requests
/// (Linux 6.11), and without them (or with io_uring disabled) every query takes the socket path.
/// </summary>
public sealed unsafe partial class UdpReactor
{
    private const int RingSlots = 1024;
    private const uint RingEntries = 1024;
    private const uint RingCompletions = 4 * RingSlots; // a slot's chain posts one completion, a few when it fails
    private const int ChainLength = 5;

    // Each slot: the receive buffer, the query, the bind and connect sockaddrs.
    private const int SlotQueryOffset = 4160;
    private const int SlotBindOffset = SlotQueryOffset + QuerySlotLength;
    private const int SlotConnectOffset = SlotBindOffset + 32;
    private const int SlotLength = SlotConnectOffset + 32;

    private const ulong StepSocket = 1;
    private const ulong StepBind = 2;
    private const ulong StepConnect = 3;
    private const ulong StepSend = 4;
    private const ulong StepReceive = 5;
    private const ulong StepCancel = 6;
    private const ulong StepClose = 7;

    private static ReadOnlySpan<byte> RequiredOperations =>
        [IoUring.OpSocket, IoUring.OpBind, IoUring.OpConnect, IoUring.OpSend, IoUring.OpRecv, IoUring.OpAsyncCancel, IoUring.OpClose];

    private IoUring? _ring;
    private byte* _slotMemory;
    private UdpExchange?[] _bySlot = [];
    private int[] _freeSlots = [];
    private int _freeSlotCount;
    private uint _nextSequence;

    /// <summary>The source port of a ring query's next bind (tests replace it to make a bind fail).</summary>
    internal Func<ushort> NextSourcePort { get; set; } = static () => SecureRandom.NextPort(UpstreamSockets.MinPort);

    /// <summary>Why the io_uring path is off for this reactor, or null when it is on.</summary>
    internal string? RingUnavailable { get; private set; } = "not a listener thread's reactor";

    /// <summary>Why listener threads could not run their upstream queries on io_uring here, or null when they can.</summary>
    public static string? WhyNoRing()
    {
        using IoUring? ring = IoUring.TryCreate(ChainLength, 2 * ChainLength, 1, RequiredOperations, out string? reason);
        return reason;
    }

    private void OpenRing()
    {
        IoUring? ring = IoUring.TryCreate(RingEntries, RingCompletions, RingSlots, RequiredOperations, out string? reason);
        if (ring is null)
        {
            RingUnavailable = reason;
            return;
        }

        if (!_epoll.TryAdd(ring.Descriptor))
        {
            RingUnavailable = "the ring cannot be watched";
            ring.Dispose();
            return;
        }

        _ring = ring;
        _slotMemory = (byte*)VirtualMemory.Map((nuint)RingSlots * SlotLength);
        _bySlot = new UdpExchange?[RingSlots];
        _freeSlots = new int[RingSlots];
        for (int i = 0; i < RingSlots; i++)
        {
            _freeSlots[i] = RingSlots - 1 - i; // slot 0 on top: the few slots a light load uses stay the same pages
        }

        _freeSlotCount = RingSlots;
        RingUnavailable = null;
    }

    /// <summary>Starts the query on a free ring slot; null when the ring is off, full, or the caller is not the owner.</summary>
    private UdpExchange? TryStartOnRing(IPEndPoint server, UpstreamQuestion question, ForwarderCounters counters)
    {
        if (_ring is not { } ring || !IsOwnerThread || _freeSlotCount == 0 || !HasEntries(ring, ChainLength))
        {
            return null;
        }

        int slot = _freeSlots[--_freeSlotCount];
        UdpExchange exchange = Rent();
        exchange.Begin(descriptor: -1, slot, UpstreamQuestion.NewId(), question, counters, server);
        byte* memory = SlotMemory(slot);
        var query = new Span<byte>(memory + SlotQueryOffset, QuerySlotLength);
        int length = question.WriteQuery(exchange.Id, query);
        counters.Dnstap?.Log(Dnstap.DnstapMessageTypes.ForwarderQuery, overTcp: false, default, Dnstap.DnstapPeer.From(server), query[..length]);

        _bySlot[slot] = exchange;
        Interlocked.Increment(ref _open);
        exchange.Sequence = ++_nextSequence;
        IoUring.Entry* socket = ring.NextEntry();
        socket->Opcode = IoUring.OpSocket;
        socket->Flags = IoUring.Link | IoUring.SkipSuccess;
        socket->Descriptor = server.AddressFamily == AddressFamily.InterNetworkV6 ? Sockaddr.AfInet6 : Sockaddr.AfInet;
        socket->Offset = LinuxSocketCalls.SockDgram;
        socket->FileIndex = (uint)slot + 1;
        socket->UserData = UserData(exchange, StepSocket);
        PrepareConnectedSend(ring, exchange, length);
        return exchange;
    }

    /// <summary>Bind to a random port, connect, send the query in the slot, then receive: linked after the socket (or a failed bind).</summary>
    private void PrepareConnectedSend(IoUring ring, UdpExchange exchange, int queryLength)
    {
        byte* memory = SlotMemory(exchange.Slot);
        var bind = new Span<byte>(memory + SlotBindOffset, 32);
        int addressLength = Sockaddr.Write(bind, UpstreamSockets.WildcardFor(exchange.Server), 0);
        // The last try lets the kernel pick its own random ephemeral port.
        Sockaddr.SetPort(bind, exchange.BindFailures < UpstreamSockets.BindTries ? NextSourcePort() : (ushort)0);
        Step(ring, exchange, IoUring.OpBind, StepBind, IoUring.Link | IoUring.SkipSuccess, memory + SlotBindOffset, 0, addressLength);

        int serverLength = Sockaddr.Write(new Span<byte>(memory + SlotConnectOffset, 32), exchange.Server, (ushort)exchange.Server.Port);
        Step(ring, exchange, IoUring.OpConnect, StepConnect, IoUring.Link | IoUring.SkipSuccess, memory + SlotConnectOffset, 0, serverLength);
        Step(ring, exchange, IoUring.OpSend, StepSend, IoUring.Link | IoUring.SkipSuccess, memory + SlotQueryOffset, (uint)queryLength, 0);
        exchange.QueryLength = queryLength;
        PrepareReceive(ring, exchange);
    }

    private void PrepareReceive(IoUring ring, UdpExchange exchange)
    {
        // MSG_TRUNC: the real length of a datagram longer than the buffer, which then means "too big".
        IoUring.Entry* receive = Step(ring, exchange, IoUring.OpRecv, StepReceive, 0, SlotMemory(exchange.Slot), ReceiveBufferLength + 1, 0);
        receive->OperationFlags = LinuxSocketCalls.MsgTrunc;
        exchange.ReceivePending = true;
    }

    private IoUring.Entry* Step(IoUring ring, UdpExchange exchange, byte opcode, ulong step, byte flags, byte* address, uint length, int addressLength)
    {
        IoUring.Entry* entry = ring.NextEntry();
        entry->Opcode = opcode;
        entry->Flags = (byte)(flags | IoUring.FixedFile);
        entry->Descriptor = exchange.Slot;
        entry->Address = (ulong)address;
        entry->Length = length;
        entry->Offset = (ulong)addressLength;
        entry->UserData = UserData(exchange, step);
        return entry;
    }

    /// <summary>Reads every completion the ring holds and acts on it (replies, failed steps, cancelled receives); returns how many.</summary>
    private int ReapRing()
    {
        if (_ring is not { } ring)
        {
            return 0;
        }

        if (ring.HasPendingWork)
        {
            ring.RunPendingWork();
        }

        int reaped = 0;
        while (ring.TryPeek(out IoUring.Completion completion))
        {
            ring.Advance();
            reaped++;
            ulong step = completion.UserData & 0xF;
            int slot = (int)((uint)completion.UserData >> 4);
            if (step is StepCancel or StepClose || _bySlot[slot] is not { } exchange || exchange.Sequence != (uint)(completion.UserData >> 32))
            {
                continue; // a cancellation or close that found nothing, or the leftover of a chain since replaced
            }

            if (step == StepReceive)
            {
                OnRingReceive(ring, exchange, completion.Result);
            }
            else
            {
                OnStepFailed(ring, exchange, step, -completion.Result);
            }
        }

        return reaped;
    }

    private void OnRingReceive(IoUring ring, UdpExchange exchange, int result)
    {
        exchange.ReceivePending = false;
        if (exchange.IsFinished)
        {
            ReleaseSlot(ring, exchange); // abandoned: its cancellation (or a last reply) came back
            return;
        }

        if (result == -IoUring.Canceled)
        {
            return; // a step before it failed and reports why
        }

        if (result < 0)
        {
            Finish(exchange, null, Errno.ToSocketException(-result)); // e.g. ICMP port unreachable
        }
        else if (result > ReceiveBufferLength)
        {
            Finish(exchange, null, null);
        }
        else if (!Deliver(exchange, new ReadOnlySpan<byte>(SlotMemory(exchange.Slot), result)) && !exchange.IsFinished)
        {
            PrepareReceiveSoon(ring, exchange);
        }
    }

    /// <summary>A set-up step failed (only failures post completions); the steps linked after it were cancelled.</summary>
    private void OnStepFailed(IoUring ring, UdpExchange exchange, ulong step, int error)
    {
        if (error == IoUring.Canceled || exchange.IsFinished)
        {
            return; // cancelled because an earlier step failed, which reports why
        }

        exchange.ReceivePending = false;
        if (step == StepBind && error is Errno.AddressInUse or Errno.AccessDenied && exchange.BindFailures < UpstreamSockets.BindTries)
        {
            exchange.BindFailures++;
            exchange.Sequence = ++_nextSequence; // the old chain's cancelled steps are stale now
            if (HasEntries(ring, ChainLength - 1))
            {
                PrepareConnectedSend(ring, exchange, exchange.QueryLength);
                return;
            }
        }

        Finish(exchange, null, Errno.ToSocketException(error));
    }

    /// <summary>Arms another receive after a foreign datagram; a ring that cannot take it fails the query.</summary>
    private void PrepareReceiveSoon(IoUring ring, UdpExchange exchange)
    {
        if (HasEntries(ring, 1))
        {
            PrepareReceive(ring, exchange);
        }
        else
        {
            Finish(exchange, null, new SocketException((int)SocketError.NoBufferSpaceAvailable));
        }
    }

    /// <summary>Closes the slot's socket and frees the slot; only once no receive can write into its buffer.</summary>
    private void ReleaseSlot(IoUring ring, UdpExchange exchange)
    {
        int slot = exchange.Slot;
        if (_bySlot[slot] != exchange || exchange.ReceivePending)
        {
            return;
        }

        if (HasEntries(ring, 1))
        {
            IoUring.Entry* close = ring.NextEntry();
            close->Opcode = IoUring.OpClose;
            close->Flags = IoUring.SkipSuccess;
            close->FileIndex = (uint)slot + 1;
            close->UserData = UserData(exchange, StepClose);
        }

        // Without room the socket stays in its slot until the slot's next socket replaces (and so closes) it.
        _bySlot[slot] = null;
        _freeSlots[_freeSlotCount++] = slot;
        Interlocked.Decrement(ref _open);
        exchange.Release();
    }

    /// <summary>
    /// An abandoned ring query: cancel its receive (the completion then frees the slot), or free the slot now. False when
    /// the ring had no room this turn: the query is queued again (and still held for that).
    /// </summary>
    private bool CloseAbandonedOnRing(IoUring ring, UdpExchange exchange)
    {
        if (_bySlot[exchange.Slot] != exchange)
        {
            return true; // already freed when its receive completed
        }

        if (!exchange.ReceivePending)
        {
            ReleaseSlot(ring, exchange);
            return true;
        }

        if (HasEntries(ring, 1))
        {
            PrepareCancelReceive(ring, exchange);
            return true;
        }

        _abandoned.Enqueue(exchange); // next turn, once the ring took this turn's entries
        return false;
    }

    /// <summary>
    /// How long <see cref="Poll"/> may sleep after reading the ring's completions: not at all when it just completed
    /// queries (their answers go out at the end of the caller's turn, which must not wait for the next event) or when
    /// the kernel holds work for this thread.
    /// </summary>
    private int RingWaitLimit(int timeoutMilliseconds, int completed) =>
        _ring is { } ring && (completed > 0 || ring.HasPendingWork) ? 0 : timeoutMilliseconds;

    /// <summary>Asks the kernel to cancel the query's receive; its completion then comes back (as cancelled, or with a reply).</summary>
    private static void PrepareCancelReceive(IoUring ring, UdpExchange exchange)
    {
        IoUring.Entry* cancel = ring.NextEntry();
        cancel->Opcode = IoUring.OpAsyncCancel;
        cancel->Flags = IoUring.SkipSuccess;
        cancel->Address = UserData(exchange, StepReceive);
        cancel->UserData = UserData(exchange, StepCancel);
    }

    /// <summary>Room for <paramref name="count"/> more entries, submitting what is prepared when needed.</summary>
    private static bool HasEntries(IoUring ring, int count) => ring.FreeEntries >= count || (ring.Submit() && ring.FreeEntries >= count);

    private void SubmitRing() => _ring?.Submit();

    /// <summary>At disposal: cancel every receive, take the completions the kernel posts, and close the ring.</summary>
    private void CloseRing()
    {
        if (_ring is not { } ring)
        {
            return;
        }

        foreach (UdpExchange? exchange in _bySlot)
        {
            if (exchange is { ReceivePending: true } && HasEntries(ring, 1))
            {
                PrepareCancelReceive(ring, exchange);
            }
        }

        ring.Submit();
        ReapRing();
        bool receiving = false;
        foreach (UdpExchange? exchange in _bySlot)
        {
            receiving |= exchange is { ReceivePending: true };
        }

        ring.Dispose();
        if (!receiving)
        {
            VirtualMemory.Unmap((nint)_slotMemory, (nuint)RingSlots * SlotLength);
        }

        // else: a receive the kernel did not cancel at once may still write into the slots: their memory stays mapped.
        _ring = null;
    }

    private byte* SlotMemory(int slot) => _slotMemory + ((nint)slot * SlotLength);

    private static ulong UserData(UdpExchange exchange, ulong step) => ((ulong)exchange.Sequence << 32) | ((ulong)(uint)exchange.Slot << 4) | step;
}
