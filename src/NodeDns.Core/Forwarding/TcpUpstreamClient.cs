using NodeDns.Protocol;

namespace NodeDns.Forwarding;

/// <summary>Keeps one reusable, pipelined TCP connection to an upstream and reconnects when it is lost.</summary>
internal sealed class TcpUpstreamClient(UpstreamServer server, ForwarderCounters counters) : IAsyncDisposable
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private TcpUpstreamConnection? _connection;

    /// <summary>A query whose connection was lost is retried once on a new connection (CP-13).</summary>
    public async Task<DnsResponseMessage> ExchangeAsync(UpstreamQuestion question, CancellationToken cancellation)
    {
        for (int attempt = 0; ; attempt++)
        {
            TcpUpstreamConnection connection = await ConnectionAsync(cancellation).ConfigureAwait(false);
            try
            {
                return await connection.ExchangeAsync(question, cancellation).ConfigureAwait(false);
            }
            catch (UpstreamConnectionLostException) when (attempt == 0 && !cancellation.IsCancellationRequested)
            {
            }
        }
    }

    private async Task<TcpUpstreamConnection> ConnectionAsync(CancellationToken cancellation)
    {
        TcpUpstreamConnection? current = _connection;
        if (current is { IsOpen: true })
        {
            return current;
        }

        await _connectLock.WaitAsync(cancellation).ConfigureAwait(false);
        try
        {
            if (_connection is { IsOpen: true })
            {
                return _connection;
            }

            if (_connection is not null)
            {
                await _connection.DisposeAsync().ConfigureAwait(false);
            }

            _connection = await TcpUpstreamConnection.ConnectAsync(server, counters, cancellation).ConfigureAwait(false);
            return _connection;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _connectLock.Dispose();
    }
}
