using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Workloads;

namespace ClusterTwin.Scenarios;

/// <summary>
/// The first pipeline stages of a scenario's job on a second kind of chip, the scenario's own cluster running the rest:
/// a pipeline over two kinds of chip, such as NVIDIA GPUs and Trainium4 sharing one NVLink Fusion domain. Every stage
/// keeps the plan's tensor, context and data degrees; only the chips (and their framework, calibration and prices)
/// differ.
/// </summary>
/// <param name="Cluster">The chips of the first stages: <see cref="Stages"/> x tensor x context x data of them.</param>
/// <param name="Efficiency">Their chip family's calibration.</param>
/// <param name="Framework">The framework they run (their vendor's default where the block names none).</param>
/// <param name="Stages">How many of the plan's pipeline stages they run, from the first.</param>
/// <param name="LayersPerStage">Layers on each of those stages; null lets the engine balance the two kinds of chip.</param>
/// <param name="Cost">Their prices, on the scenario's basis and in its facility.</param>
public sealed record MixedPipeline(Cluster Cluster, ChipEfficiency Efficiency, TrainingFramework Framework, int Stages, int? LayersPerStage, CostSettings Cost);
