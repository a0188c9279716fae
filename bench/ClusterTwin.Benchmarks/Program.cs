using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project bench/ClusterTwin.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(ClusterTwin.Benchmarks.StepSimulationBenchmarks).Assembly).Run(args);
