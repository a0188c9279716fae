using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Workloads;

namespace ClusterTwin.Scenarios;

/// <summary>Everything one simulation needs: where, what, and how it is laid out.</summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Cluster">The hardware.</param>
/// <param name="Efficiency">The calibration data of the cluster's chip family.</param>
/// <param name="Model">The model.</param>
/// <param name="Job">The training job.</param>
/// <param name="Plan">The parallel layout.</param>
/// <param name="Cost">The prices and facility the energy and cost are worked out with; null prices nothing.</param>
public sealed record Scenario(string Name, Cluster Cluster, ChipEfficiency Efficiency, ModelArchitecture Model, TrainingJob Job, ParallelPlan Plan, CostSettings? Cost = null)
{
    /// <summary>The training framework the job runs on: what its software adds to the kernels' roofline.</summary>
    public TrainingFramework Framework { get; init; } = TrainingFramework.None;

    /// <summary>What interrupts the run and how it recovers, for the whole run's expected time; null leaves interruptions out.</summary>
    public Reliability.ResilienceSettings? Resilience { get; init; }

    /// <summary>How the chips differ in speed, for the event-level engine's straggler draws; null draws none.</summary>
    public Reliability.StragglerSettings? Stragglers { get; init; }

    /// <summary>The first pipeline stages on a second kind of chip (<see cref="Scenarios.MixedPipeline"/>); null where every stage runs on <see cref="Cluster"/>.</summary>
    public MixedPipeline? MixedPipeline { get; init; }

    /// <summary>Whether the scenario named its framework; one it did not name is its chip vendor's default, which follows the chip.</summary>
    public bool FrameworkNamed { get; init; }
}
