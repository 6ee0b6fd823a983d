using BenchmarkDotNet.Running;
using NodeDns.Benchmarks;

if (args is ["--hit-ratio"])
{
    EvictionHitRatio.Run();
    return;
}

if (args is ["--footprint"])
{
    CacheFootprint.Run();
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(HitPathBenchmarks).Assembly).Run(args);
