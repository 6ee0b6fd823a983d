using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(NodeDns.Benchmarks.HitPathBenchmarks).Assembly).Run(args);
