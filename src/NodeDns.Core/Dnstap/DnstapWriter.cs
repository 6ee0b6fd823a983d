using System.Net.Sockets;

namespace NodeDns.Dnstap;

/// <summary>
/// Drains a <see cref="DnstapLog"/> on its own thread into a Frame Streams connection to a dnstap reader: connects,
/// shakes hands, writes frames in batches, and when the reader is absent, slow past a timeout or gone, drops the
/// connection and tries again with back-off (250 ms doubling to 5 s). DNS never waits for any of it: meanwhile the
/// queue fills and further messages are dropped and counted.
/// </summary>
public sealed class DnstapWriter : IDisposable
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan LastRetry = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(2);
    private const int BatchBytes = 64 << 10;

    private readonly DnstapLog _log;
    private readonly DnstapTarget _target;
    private readonly DnstapEncoder _encoder;
    private readonly Action<string, bool> _report;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Thread _thread;
    private readonly byte[] _batch;

    private Socket? _socket;
    private bool _failureReported;
    private int _batchLength;
    private int _batchFrames;

    /// <summary>Messages written to the reader.</summary>
    public long Sent;

    /// <summary>Messages taken from the queue but lost with a connection that failed.</summary>
    public long Lost;

    /// <summary>Connections that failed or were refused.</summary>
    public long ConnectionFailures;

    /// <param name="report">Told, on the writer's thread, when the connection comes up (false) or goes down (true: a problem).</param>
    public DnstapWriter(DnstapLog log, DnstapTarget target, byte[] identity, byte[] version, Action<string, bool> report)
    {
        _log = log;
        _target = target;
        _encoder = new DnstapEncoder(identity, version);
        _report = report;
        _thread = new Thread(Run) { IsBackground = true, Name = "dnstap" };
        _batch = new byte[BatchBytes + 4 + _encoder.MaxLength(ushort.MaxValue)]; // a batch plus one largest frame
    }

    public bool Connected => Volatile.Read(ref _socket) is not null;

    /// <summary>Messages dropped before they were written: the queue was full, or their connection failed.</summary>
    public long Dropped => Interlocked.Read(ref _log.Queue.Dropped) + Interlocked.Read(ref Lost);

    public void Start() => _thread.Start();

    private void Run()
    {
        TimeSpan retry = FirstRetry;
        while (!_stopping.IsCancellationRequested)
        {
            if (_socket is null)
            {
                if (!TryConnect())
                {
                    _stopping.Token.WaitHandle.WaitOne(retry);
                    retry = TimeSpan.FromTicks(Math.Min(retry.Ticks * 2, LastRetry.Ticks));
                    continue;
                }

                retry = FirstRetry;
            }

            try
            {
                if (!Drain())
                {
                    _log.WaitForMessages(TimeSpan.FromSeconds(1), _stopping.Token);
                }
            }
            catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
            {
                Disconnect($"dnstap: lost the reader at {_target}: {e.Message}; reconnecting");
            }
        }

        FinishStream();
    }

    private bool TryConnect()
    {
        Socket socket = _target.NewSocket();
        try
        {
            socket.SendTimeout = socket.ReceiveTimeout = (int)IoTimeout.TotalMilliseconds;
            using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token))
            {
                connecting.CancelAfter(IoTimeout);
                socket.ConnectAsync(_target.EndPoint, connecting.Token).AsTask().GetAwaiter().GetResult();
            }

            FrameStream.Handshake(socket);
            Volatile.Write(ref _socket, socket);
            _failureReported = false;
            _report($"dnstap: writing to {_target}", false);
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            socket.Dispose();
            Interlocked.Increment(ref ConnectionFailures);
            if (!_failureReported)
            {
                _failureReported = true; // once per outage: the back-off keeps trying quietly
                _report($"dnstap: cannot reach a reader at {_target}: {e.Message}; retrying with back-off", true);
            }

            return false;
        }
    }

    /// <summary>Writes what is queued, in batches; returns false when there was nothing.</summary>
    private bool Drain()
    {
        bool any = false;
        while (_log.Queue.Peek() is { } entry)
        {
            any = true;
            int frame = _encoder.MaxLength(entry.Length) + 4;
            if (_batchLength + frame > _batch.Length)
            {
                Flush();
            }

            int length = _encoder.Write(entry, _batch.AsSpan(_batchLength + 4));
            FrameStream.WriteDataFrameHeader(_batch.AsSpan(_batchLength), length);
            _batchLength += 4 + length;
            _batchFrames++;
            _log.Queue.Release(entry);
            if (_batchLength >= BatchBytes)
            {
                Flush();
            }
        }

        Flush();
        return any;
    }

    private void Flush()
    {
        if (_batchLength == 0)
        {
            return;
        }

        int frames = _batchFrames;
        int length = _batchLength;
        _batchLength = 0;
        _batchFrames = 0;
        try
        {
            FrameStream.SendAll(_socket!, _batch.AsSpan(0, length));
        }
        catch
        {
            Interlocked.Add(ref Lost, frames);
            throw;
        }

        Interlocked.Add(ref Sent, frames);
    }

    private void Disconnect(string why)
    {
        Socket? socket = Interlocked.Exchange(ref _socket, null);
        socket?.Dispose();
        _batchLength = 0;
        _batchFrames = 0;
        _report(why, true);
    }

    /// <summary>On stop: writes what is still queued, then STOP and the reader's FINISH, all within the I/O timeout.</summary>
    private void FinishStream()
    {
        if (_socket is not { } socket)
        {
            return;
        }

        try
        {
            Drain();
            FrameStream.Close(socket);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
        }

        Volatile.Write(ref _socket, null);
        socket.Dispose();
    }

    public void Dispose()
    {
        _stopping.Cancel();
        if (_thread.IsAlive)
        {
            _thread.Join(IoTimeout * 3);
        }

        _stopping.Dispose();
    }
}
