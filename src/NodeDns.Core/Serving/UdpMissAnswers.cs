using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using NodeDns.Dnstap;
using NodeDns.Interop;
using NodeDns.Pooling;
using NodeDns.Protocol;

namespace NodeDns.Serving;

/// <summary>
/// Answers the misses of one UDP listener thread. A miss waits for its answer in a reused record (the client's address
/// and the continuation that sends the answer), so it costs no state machine of its own. The answer normally comes on
/// the listener's thread (its reactor completes the upstream exchange) and joins the thread's burst; one that comes
/// elsewhere — a client that joined a question another thread forwarded, a retry — is sent at once and counted.
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

    /// <param name="query">A copy of the client's query, as given to <see cref="QueryPipeline.Process"/>.</param>
    /// <param name="key">A copy of the key it produced.</param>
    /// <param name="client">The client's raw sockaddr, as recvmmsg gave it.</param>
    public void Start(byte[] query, in QueryInfo info, byte[] key, in ClientContext from, ReadOnlySpan<byte> client)
    {
        PendingMiss miss = _idle.TryTake(out PendingMiss? idle) ? idle : new PendingMiss(this);
        miss.Start(query, info, key, from, client);
    }

    private void Answer(byte[] response, ReadOnlySpan<byte> client)
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

    /// <summary>One miss between its query and its answer.</summary>
    private sealed class PendingMiss
    {
        private readonly UdpMissAnswers _owner;
        private readonly byte[] _client = new byte[BatchedDatagrams.AddressLength];
        private readonly Action _onResolved;
        private int _clientLength;
        private ConfiguredValueTaskAwaitable<byte[]>.ConfiguredValueTaskAwaiter _resolving;

        public PendingMiss(UdpMissAnswers owner)
        {
            _owner = owner;
            _onResolved = OnResolved;
        }

        public void Start(byte[] query, in QueryInfo info, byte[] key, in ClientContext from, ReadOnlySpan<byte> client)
        {
            client.CopyTo(_client);
            _clientLength = client.Length;
            _resolving = _owner._pipeline.ResolveMissAsync(query, info, key, from, _owner._stopping).ConfigureAwait(false).GetAwaiter();
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
                byte[] response = _resolving.GetResult();
                _owner.Answer(response, _client.AsSpan(0, _clientLength));
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
                _owner._idle.TryReturn(this);
            }
        }
    }
}
