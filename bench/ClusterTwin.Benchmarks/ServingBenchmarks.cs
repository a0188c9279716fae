using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The serving simulator on the shipped example (Llama 3.1 70B, two replicas of tensor 4 on 8 H100, Poisson arrivals
/// at 8 requests per second) for 10K, 100K and 1M requests, generated or read from a trace file of the same requests:
/// time grows with the requests, memory must not.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ServingBenchmarks
{
    private ServingScenario scenario = null!;
    private string trace = null!;

    /// <summary>Requests simulated.</summary>
    [Params(10_000, 100_000, 1_000_000)]
    public int Requests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        scenario = ScenarioLoader.LoadServing(Examples.Path(catalog, "serve-llama3-70b-h100.yaml"), catalog);
        trace = Path.Combine(Path.GetTempPath(), $"clustertwin-trace-{Requests}.csv");
        using var writer = new StreamWriter(trace);
        writer.WriteLine("arrival_seconds,input_tokens,output_tokens");
        foreach (var request in (scenario.Workload with { Requests = Requests }).Stream())
        {
            writer.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{request.Arrival:R},{request.InputTokens},{request.OutputTokens}"));
        }
    }

    [GlobalCleanup]
    public void Cleanup() => File.Delete(trace);

    /// <summary>The whole simulation, energy and cost included.</summary>
    [Benchmark]
    public ServingResult Serve() => ServingSimulator.Run(scenario.Deployment, scenario.Workload with { Requests = Requests }, scenario.Objectives, scenario.Cost);

    /// <summary>The same requests read line by line from a CSV trace.</summary>
    [Benchmark]
    public ServingResult ServeTrace() => ServingSimulator.Run(scenario.Deployment, new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = trace }, scenario.Objectives, scenario.Cost);
}
