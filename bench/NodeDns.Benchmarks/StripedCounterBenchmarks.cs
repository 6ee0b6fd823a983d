using BenchmarkDotNet.Attributes;
using NodeDns.Serving;

namespace NodeDns.Benchmarks;

/// <summary>
/// One increment per query from every listener thread: a shared Interlocked counter (one cache line moved between
/// cores on each increment) against <see cref="StripedCounter"/> (one line per processor). Two threads, as many as
/// this machine's cores; run without taskset, or both threads share one core and there is nothing to measure.
/// </summary>
[MemoryDiagnoser]
public class StripedCounterBenchmarks
{
    private const int PerThread = 1_000_000;
    private const int Threads = 2;
    private readonly StripedCounter _striped = new();
    private long _shared;

    [Benchmark(Baseline = true, OperationsPerInvoke = PerThread * Threads)]
    public void SharedInterlocked() => OnThreads(() =>
    {
        for (int i = 0; i < PerThread; i++)
        {
            Interlocked.Increment(ref _shared);
        }
    });

    [Benchmark(OperationsPerInvoke = PerThread * Threads)]
    public void Striped() => OnThreads(() =>
    {
        for (int i = 0; i < PerThread; i++)
        {
            _striped.Increment();
        }
    });

    private static void OnThreads(Action work)
    {
        var threads = new Thread[Threads];
        for (int t = 0; t < Threads; t++)
        {
            threads[t] = new Thread(() => work());
            threads[t].Start();
        }

        foreach (Thread thread in threads)
        {
            thread.Join();
        }
    }
}
