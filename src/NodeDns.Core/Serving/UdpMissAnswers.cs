using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using NodeDns.Dnstap;
using NodeDns.Interop;
using NodeDns.Pooling;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// Answers the misses of one UDP listener thread. A miss waits for its answer in a reused record (copies of the query
/// and its key, the client's address, the answer's buffer and the continuation that sends it), so it allocates
/// nothing. The answer normally comes on the listener's thread (its reactor completes the upstream exchange) and joins
/// the thread's burst; one that comes elsewhere — a client that joined a question another thread forwarded, a retry —
/// is sent at once and counted.
/// </summary>
internal sealed class UdpMissAnswers
{
    private readonly Socket _socket;
    private readonly QueryPipeline _pipeline;
    private readonly MissReplyQueue _replies;
    private readonly IPEndPoint _server;
    private readonly Action<Exception> _onError;
    private readonly CancellationToken _stopping;
    private readonly BoundedPool<PendingMiss> _idle = new(1024);

    /// <param name="socket">The listener's socket, which answers leave from.</param>
    /// <param name="replies">The listener thread's burst of answers.</param>
    /// <param name="server">The listener's address, for dnstap.</param>
    public UdpMissAnswers(Socket socket, QueryPipeline pipeline, MissReplyQueue replies, IPEndPoint server, Action<Exception> onError,
        CancellationToken stopping)
    {
        _socket = socket;
        _pipeline = pipeline;
        _replies = replies;
        _server = server;
        _onError = onError;
        _stopping = stopping;
    }

    /// <summary>Keeps copies of a missed query, its key and the client's address in a reused record, until <see cref="PendingMiss.Start"/>.</summary>
    /// <param name="client">The client's raw sockaddr, as recvmmsg gave it.</param>
    public PendingMiss Prepare(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key, in ClientContext from, ReadOnlySpan<byte> client)
    {
        PendingMiss miss = _idle.TryTake(out PendingMiss? idle) ? idle : new PendingMiss(this);
        miss.Prepare(query, info, key, from, client);
        return miss;
    }

    private void Answer(ReadOnlySpan<byte> response, ReadOnlySpan<byte> client)
    {
        if (!_replies.IsOwnerThread)
        {
            Interlocked.Increment(ref _pipeline.Counters.MissesCompletedOffListener);
        }

        if (!_replies.TryQueue(response, client))
        {
            Send(response, client);
        }

        _pipeline.Dnstap?.Log(DnstapMessageTypes.ClientResponse, overTcp: false, DnstapPeer.FromSockaddr(client), DnstapPeer.From(_server), response);
    }

    private unsafe void Send(ReadOnlySpan<byte> response, ReadOnlySpan<byte> client)
    {
        // Another thread may be closing the socket: hold the handle so its descriptor number cannot be reused meanwhile.
        bool held = false;
        try
        {
            _socket.SafeHandle.DangerousAddRef(ref held);
            fixed (byte* data = response)
            fixed (byte* address = client)
            {
                if (LinuxSocketCalls.SendTo((int)_socket.SafeHandle.DangerousGetHandle(), data, (nuint)response.Length, 0, address,
                        (uint)client.Length) >= 0)
                {
                    return;
                }
            }
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (held)
            {
                _socket.SafeHandle.DangerousRelease();
            }
        }

        Interlocked.Increment(ref _pipeline.Counters.SendErrors);
    }

    /// <summary>One miss between its query and its answer: copies of the query and its key, the client's address, the answer.</summary>
    internal sealed class PendingMiss
    {
        private readonly UdpMissAnswers _owner;
        private readonly byte[] _client = new byte[BatchedDatagrams.AddressLength];
        private readonly byte[] _key = new byte[QueryParser.MaxKeyLength];
        private readonly byte[] _answer = new byte[DnsLimits.EdnsUdpPayload];
        private readonly Action _onResolved;
        private byte[] _query = new byte[512];
        private int _queryLength;
        private int _keyLength;
        private int _clientLength;
        private QueryInfo _info;
        private ClientContext _from;
        private ConfiguredValueTaskAwaitable<int>.ConfiguredValueTaskAwaiter _resolving;

        public PendingMiss(UdpMissAnswers owner)
        {
            _owner = owner;
            _onResolved = OnResolved;
        }

        public void Prepare(ReadOnlySpan<byte> query, in QueryInfo info, ReadOnlySpan<byte> key, in ClientContext from, ReadOnlySpan<byte> client)
        {
            if (query.Length > _query.Length)
            {
                _query = new byte[query.Length];
            }

            query.CopyTo(_query);
            _queryLength = query.Length;
            key.CopyTo(_key);
            _keyLength = key.Length;
            _info = info;
            _from = from;
            client.CopyTo(_client);
            _clientLength = client.Length;
        }

        /// <summary>Forwards (or joins) the question; the answer is sent when it comes.</summary>
        public void Start()
        {
            _resolving = _owner._pipeline.ResolveMissAsync(_query.AsMemory(0, _queryLength), _info, _key.AsMemory(0, _keyLength), _from, _answer,
                _owner._stopping).ConfigureAwait(false).GetAwaiter();
            if (_resolving.IsCompleted)
            {
                OnResolved();
            }
            else
            {
                _resolving.UnsafeOnCompleted(_onResolved);
            }
        }

        private void OnResolved()
        {
            try
            {
                int length = _resolving.GetResult();
                _owner.Answer(_answer.AsSpan(0, length), _client.AsSpan(0, _clientLength));
            }
            catch (OperationCanceledException) when (_owner._stopping.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                Interlocked.Increment(ref _owner._pipeline.Counters.InternalErrors);
                _owner._onError(e);
            }
            finally
            {
                _resolving = default;
                _from = default;
                _owner._idle.TryReturn(this);
            }
        }
    }
}
