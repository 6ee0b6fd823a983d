using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using NodeDns.Protocol;

namespace NodeDns.Forwarding;

public sealed record ForwarderOptions
{
    /// <summary>How long one try waits before the next one starts (the earlier try keeps listening).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Overall limit, below glibc's 5 s timeout so the client gets SERVFAIL rather than silence.</summary>
    public TimeSpan Deadline { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>Tries per query: the first and at most two retries (RFC 9520 §3.1).</summary>
    public int MaxAttempts { get; init; } = 3;
}

/// <summary>The outcome of forwarding one question: an answer, or null with the reason it failed.</summary>
public sealed record ForwardResult(DnsResponseMessage? Response, UpstreamServer? Server, string? Failure);

/// <summary>
/// Sends a question to a zone's upstreams. Tries start one after another (on failure at once, on silence after
/// <see cref="ForwarderOptions.AttemptTimeout"/>) and earlier tries keep listening, so a slow answer still counts;
/// the first real answer wins. A server failure (SERVFAIL, REFUSED, ...) moves on to the next try.
/// </summary>
public sealed class Forwarder : IAsyncDisposable
{
    private readonly ForwarderOptions _options;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<IPEndPoint, TcpUpstreamClient> _tcpClients = new();

    public Forwarder(ForwarderOptions options, TimeProvider time)
    {
        _options = options;
        _time = time;
    }

    public ForwarderCounters Counters { get; } = new();

    public async Task<ForwardResult> ForwardAsync(UpstreamPool pool, UpstreamQuestion question, CancellationToken cancellation)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        deadline.CancelAfter(_options.Deadline);
        var running = new List<Task<ForwardResult>>(_options.MaxAttempts);
        int first = pool.FirstIndex();
        int started = 0;
        ForwardResult? lastFailure = null;
        try
        {
            running.Add(Start());
            while (running.Count > 0)
            {
                Task<ForwardResult> finished;
                if (started < _options.MaxAttempts && !deadline.IsCancellationRequested)
                {
                    Task nextTry = Task.Delay(_options.AttemptTimeout, _time, deadline.Token);
                    Task winner = await Task.WhenAny([.. running, nextTry]).ConfigureAwait(false);
                    if (winner == nextTry)
                    {
                        if (!deadline.IsCancellationRequested)
                        {
                            running.Add(Start());
                        }

                        continue;
                    }

                    finished = (Task<ForwardResult>)winner;
                }
                else
                {
                    finished = await Task.WhenAny(running).ConfigureAwait(false);
                }

                running.Remove(finished);
                ForwardResult result = await finished.ConfigureAwait(false);
                if (result.Response is not null)
                {
                    return result;
                }

                lastFailure = result;
                if (started < _options.MaxAttempts && !deadline.IsCancellationRequested)
                {
                    running.Add(Start());
                }
            }
        }
        finally
        {
            await deadline.CancelAsync().ConfigureAwait(false);
        }

        return lastFailure ?? new ForwardResult(null, null, "no upstream answered");

        Task<ForwardResult> Start() => AttemptAsync(pool.ForAttempt(first, started++), question, deadline.Token);
    }

    private async Task<ForwardResult> AttemptAsync(UpstreamServer server, UpstreamQuestion question, CancellationToken cancellation)
    {
        Interlocked.Increment(ref Counters.UpstreamQueries);
        try
        {
            DnsResponseMessage response = server.Transport == UpstreamTransport.Tcp
                ? await TcpClient(server).ExchangeAsync(question, cancellation).ConfigureAwait(false)
                : await UdpExchange.ExchangeAsync(server, question, Counters, cancellation).ConfigureAwait(false);
            if (response.Truncated && server.Transport == UpstreamTransport.Udp)
            {
                Interlocked.Increment(ref Counters.TcpRetriesAfterTruncation);
                response = await TcpClient(server).ExchangeAsync(question, cancellation).ConfigureAwait(false);
            }

            return DnsRcode.IsServerFailure(response.Rcode)
                ? new ForwardResult(null, server, $"{server} answered {DnsRcode.Name(response.Rcode)}")
                : new ForwardResult(response, server, null);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref Counters.UpstreamTimeouts);
            return new ForwardResult(null, server, $"{server} did not answer in time");
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException)
        {
            Interlocked.Increment(ref Counters.UpstreamErrors);
            return new ForwardResult(null, server, $"{server}: {e.Message}");
        }
    }

    private TcpUpstreamClient TcpClient(UpstreamServer server) =>
        _tcpClients.GetOrAdd(server.EndPoint, _ => new TcpUpstreamClient(server, Counters));

    public async ValueTask DisposeAsync()
    {
        foreach (TcpUpstreamClient client in _tcpClients.Values)
        {
            await client.DisposeAsync().ConfigureAwait(false);
        }
    }
}
