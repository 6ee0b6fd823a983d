using System.Net.Sockets;
using System.Runtime.CompilerServices;
using NodeDns.Pooling;
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

    /// <summary>How often an upstream marked down is probed.</summary>
    public TimeSpan HealthCheckInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one health probe waits for its answer.</summary>
    public TimeSpan HealthCheckTimeout { get; init; } = TimeSpan.FromSeconds(1);
}

/// <summary>The outcome of forwarding one question: an answer, or null with the reason it failed.</summary>
public readonly record struct ForwardResult(DnsResponseMessage? Response, UpstreamServer? Server, string? Failure);

/// <summary>
/// Sends a question to a zone's upstreams. Tries start one after another (on failure at once, on silence after
/// <see cref="ForwarderOptions.AttemptTimeout"/>) and earlier tries keep listening, so a slow answer still counts;
/// the first real answer wins. A server failure (SERVFAIL, REFUSED, ...) moves on to the next try. Timeouts and
/// network errors count against an upstream's health; one marked down is probed until it answers again.
/// </summary>
public sealed class Forwarder : IAsyncDisposable
{
    /// <summary>The health probe asks for the root's NS records, as CoreDNS does; any well-formed answer is healthy.</summary>
    private static readonly UpstreamQuestion Probe = new([0], DnsType.NS, DnsClass.IN, dnssecOk: false, checkingDisabled: false);

    private volatile ForwarderOptions _options;
    private readonly TimeProvider _time;
    private readonly IUpstreamTransport _transport;
    private readonly CancellationTokenSource _disposed = new();

    /// <summary>Operations kept for reuse: about as many as questions in flight at once on a busy node.</summary>
    private readonly BoundedPool<ForwardOperation> _idle = new(4096);

    public Forwarder(ForwarderOptions options, TimeProvider time, IUpstreamTransport transport, ForwarderCounters counters)
    {
        _options = options;
        _time = time;
        _transport = transport;
        Counters = counters;
    }

    public ForwarderCounters Counters { get; }

    /// <summary>Timeouts and probe intervals; a reload replaces them, and each query or probe round reads them once.</summary>
    public ForwarderOptions Options
    {
        get => _options;
        set => _options = value;
    }

    /// <param name="reactor">The reactor of the listener thread the question came from, if any (see <see cref="UdpReactor"/>).</param>
    /// <returns>The outcome; await it once.</returns>
    public ValueTask<ForwardResult> ForwardAsync(UpstreamPool pool, UpstreamQuestion question, CancellationToken cancellation, UdpReactor? reactor = null)
    {
        if (pool.AllDown)
        {
            Interlocked.Increment(ref Counters.AllUpstreamsDown);
        }

        ForwardOperation operation = _idle.TryTake(out ForwardOperation? idle) ? idle : new ForwardOperation(this, _time);
        return operation.Start(pool, question, reactor, _options, cancellation);
    }

    /// <summary>Takes back an operation whose question is finished.</summary>
    internal void Return(ForwardOperation operation)
    {
        if (_disposed.IsCancellationRequested || !_idle.TryReturn(operation))
        {
            operation.Dispose();
        }
    }

    /// <summary>One try: its result, failures included; never throws.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<ForwardResult> AttemptAsync(Upstream upstream, UpstreamQuestion question, UdpReactor? reactor, CancellationToken cancellation)
    {
        Interlocked.Increment(ref Counters.UpstreamQueries);
        long started = _time.GetTimestamp();
        UpstreamServer server = upstream.Server;
        try
        {
            DnsResponseMessage response = await _transport.ExchangeAsync(server, question, reactor, cancellation).ConfigureAwait(false);
            if (response.Rcode is DnsRcode.FormErr or DnsRcode.NotImp && question.UseEdns)
            {
                response.Return();
                response = await _transport.ExchangeAsync(server, question.WithoutEdns(), reactor, cancellation).ConfigureAwait(false); // ED-14
            }

            upstream.RecordSuccess();
            int rcode = response.Rcode;
            Counters.Observe(server, rcode, _time.GetElapsedTime(started));
            if (DnsRcode.IsServerFailure(rcode))
            {
                response.Return();
                return new ForwardResult(null, server, $"{server} answered {DnsRcode.Name(rcode)}");
            }

            return new ForwardResult(response, server, null);
        }
        catch (OperationCanceledException)
        {
            Interlocked.Increment(ref Counters.UpstreamTimeouts);
            MarkFailed(upstream);
            return new ForwardResult(null, server, $"{server} did not answer in time");
        }
        catch (TooLargeReplyException e)
        {
            upstream.RecordSuccess(); // it answers; what it answered cannot be used
            Interlocked.Increment(ref Counters.UpstreamErrors);
            return new ForwardResult(null, server, $"{server} answered with a message too large to use: {e.Message}");
        }
        catch (Exception e) when (e is SocketException or IOException or InvalidOperationException)
        {
            Interlocked.Increment(ref Counters.UpstreamErrors);
            MarkFailed(upstream);
            return new ForwardResult(null, server, $"{server}: {e.Message}");
        }
        catch (Exception e)
        {
            // A bug, not the upstream's fault: this try fails (the client gets SERVFAIL if no other try answers).
            Interlocked.Increment(ref Counters.UpstreamErrors);
            return new ForwardResult(null, server, $"{server}: internal error: {e.Message}");
        }
    }

    private void MarkFailed(Upstream upstream)
    {
        if (upstream.RecordFailure() && upstream.TryStartProbing())
        {
            Interlocked.Increment(ref Counters.UpstreamsMarkedDown);
            _ = ProbeUntilHealthyAsync(upstream);
        }
    }

    /// <summary>Probes a down upstream every <see cref="ForwarderOptions.HealthCheckInterval"/> through the same transport as real traffic.</summary>
    private async Task ProbeUntilHealthyAsync(Upstream upstream)
    {
        try
        {
            while (upstream.IsDown && !upstream.IsRetired && !_disposed.IsCancellationRequested)
            {
                await Task.Delay(_options.HealthCheckInterval, _time, _disposed.Token).ConfigureAwait(false);
                if (upstream.IsRetired)
                {
                    break; // a reload removed it while we waited
                }

                using var timeout = new CancellationTokenSource(_options.HealthCheckTimeout, _time);
                using CancellationTokenRegistration link = _disposed.Token.Register(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
                try
                {
                    (await _transport.ExchangeAsync(upstream.Server, Probe, reactor: null, timeout.Token).ConfigureAwait(false)).Return();
                    upstream.RecordSuccess();
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or InvalidOperationException)
                {
                    Counters.HealthCheckFailed?.Invoke(upstream.Server);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            upstream.StopProbing();
        }
    }

    /// <summary>Stops the health probes; the transport belongs to whoever created it.</summary>
    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync().ConfigureAwait(false);
        while (_idle.TryTake(out ForwardOperation? operation))
        {
            operation.Dispose();
        }
    }
}
