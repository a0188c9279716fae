using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The same 10,000 requests of the shipped serving example (Llama 3.1 70B at tensor 4, Poisson at 8 requests per
/// second) on 1, 100 and 8,000 DGX H100 systems (2 to 16,000 replicas): the router makes a replica only when it first
/// reaches one, so time and memory follow the requests in flight, not the replicas the cluster could hold.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ServingReplicasBenchmarks
{
    private ServingScenario scenario = null!;
    private ServingDeployment deployment = null!;

    /// <summary>DGX H100 systems in the cluster (8 chips each, two replicas of tensor 4 per system).</summary>
    [Params(1, 100, 8_000)]
    public int Systems { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        scenario = ScenarioLoader.LoadServing(Examples.Path(catalog, "serve-llama3-70b-h100.yaml"), catalog);
        var cluster = scenario.Deployment.Cluster;
        deployment = scenario.Deployment with { Cluster = cluster with { SystemCount = Systems, Fabric = catalog.Fabrics["infiniband-ndr-fat-tree"] } };
    }

    /// <summary>The whole simulation, energy and cost included.</summary>
    [Benchmark]
    public ServingResult Serve() => ServingSimulator.Run(deployment, scenario.Workload with { Requests = 10_000 }, scenario.Objectives, scenario.Cost);
}
