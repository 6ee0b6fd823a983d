using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using NodeDns.Core.Tests;
using NodeDns.EndToEnd.Support;

namespace NodeDns.EndToEnd;

/// <summary>Zero-downtime replacement: instance B takes over A's sockets and cache under steady load.</summary>
public sealed class HandoffTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task Replacing_an_instance_under_load_loses_no_query_and_delays_none_beyond_a_second()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        string dir = Directory.CreateTempSubdirectory("nodedns-handoff-").FullName;
        int port = Ports.Free();
        string[] args = ["--listen", $"127.0.0.1:{port}", "--upstream", upstream.EndPoint.ToString(), "--handoff-socket", Path.Combine(dir, "handoff.sock"),
            "--lock-file", Path.Combine(dir, "nodedns.lock"), "--lameduck", "1s"];
        try
        {
            await using NodeDnsProcess first = await NodeDnsProcess.StartAsync(args);
            var load = new SteadyLoad(first.EndPoint, queriesPerSecond: 1500, TimeSpan.FromSeconds(12));
            Task<LoadResult> running = load.RunAsync();

            await Task.Delay(TimeSpan.FromSeconds(3));
            await using NodeDnsProcess second = await NodeDnsProcess.StartAsync(args);
            await Eventually.TrueAsync(() => first.Output.Contains("the successor serves", StringComparison.Ordinal));
            await Task.Delay(TimeSpan.FromSeconds(2));
            first.Signal(15);
            Assert.True(await first.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the old instance did not exit");
            Assert.Equal(0, first.ExitCode);

            LoadResult result = await running;
            output.WriteLine($"hand-off under load: {result.Sent} queries, {result.Lost} lost, slowest answer {result.Slowest.TotalMilliseconds:F1} ms");
            Assert.True(result.Sent >= 15_000, $"only {result.Sent} queries sent");
            Assert.True(result.Lost == 0, $"{result.Lost} of {result.Sent} queries lost");
            Assert.True(result.Slowest < TimeSpan.FromSeconds(1), $"slowest answer took {result.Slowest}");
            Assert.False(second.HasExited);
            Assert.Contains("took over", second.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_second_unrelated_instance_is_refused_by_the_lock()
    {
        await using ScriptedUpstream upstream = ScriptedUpstream.Answering();
        string dir = Directory.CreateTempSubdirectory("nodedns-lock-").FullName;
        try
        {
            await using NodeDnsProcess first = await NodeDnsProcess.StartAsync("--upstream", upstream.EndPoint.ToString(), "--lock-file", Path.Combine(dir, "lock"));
            ToolResult second = await NodeDnsProcess.RunToExitAsync(["--listen", first.EndPoint.ToString(), "--upstream", upstream.EndPoint.ToString(),
                "--lock-file", Path.Combine(dir, "lock"), "--metrics", "off"]);
            Assert.Equal(1, second.ExitCode);
            Assert.Contains($"another NodeDns instance (pid {first.ProcessId}) holds", second.Error, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private sealed record LoadResult(int Sent, int Lost, TimeSpan Slowest);

    /// <summary>
    /// A bounded open-loop UDP load: fixed rate, 8 source ports, every query's answer awaited for 2 s. Sender and
    /// receivers run on threads of their own, so that a busy thread pool in the test process cannot pass for a slow
    /// server (it did: ~1 s stalls while the second daemon started, with either build of NodeDns).
    /// </summary>
    private sealed class SteadyLoad(IPEndPoint server, int queriesPerSecond, TimeSpan duration)
    {
        private readonly ConcurrentDictionary<ushort, long> _pending = new();
        private long _slowestTicks;
        private volatile bool _done;

        public Task<LoadResult> RunAsync() => Task.Factory.StartNew(Run, TaskCreationOptions.LongRunning);

        private LoadResult Run()
        {
            Socket[] sockets = [.. Enumerable.Range(0, 8).Select(_ => new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))];
            foreach (Socket socket in sockets)
            {
                socket.Connect(server);
                socket.ReceiveTimeout = 100;
            }

            Thread[] receivers = [.. sockets.Select(s => new Thread(() => Receive(s)) { IsBackground = true })];
            foreach (Thread receiver in receivers)
            {
                receiver.Start();
            }

            int sent = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < duration)
            {
                int due = (int)(clock.Elapsed.TotalSeconds * queriesPerSecond);
                for (; sent < due; sent++)
                {
                    ushort id = (ushort)(sent % 65536);
                    _pending[id] = Stopwatch.GetTimestamp();
                    byte[] query = Wire.Query($"name{sent % 200}.example", id: id);
                    sockets[sent % sockets.Length].Send(query);
                }

                Thread.Sleep(2);
            }

            Thread.Sleep(TimeSpan.FromSeconds(2));
            _done = true;
            foreach (Thread receiver in receivers)
            {
                receiver.Join();
            }

            foreach (Socket socket in sockets)
            {
                socket.Dispose();
            }

            return new LoadResult(sent, _pending.Count, TimeSpan.FromTicks((long)(_slowestTicks * (TimeSpan.TicksPerSecond / (double)Stopwatch.Frequency))));
        }

        private void Receive(Socket socket)
        {
            byte[] buffer = new byte[1500];
            while (!_done)
            {
                int length;
                try
                {
                    length = socket.Receive(buffer);
                }
                catch (SocketException)
                {
                    continue; // the receive timeout, to look at _done
                }

                if (length >= 12 && _pending.TryRemove(Wire.ReadU16(buffer, 0), out long sentAt))
                {
                    long took = Stopwatch.GetTimestamp() - sentAt;
                    long slowest;
                    while (took > (slowest = Interlocked.Read(ref _slowestTicks)) && Interlocked.CompareExchange(ref _slowestTicks, took, slowest) != slowest)
                    {
                    }
                }
            }
        }
    }
}
