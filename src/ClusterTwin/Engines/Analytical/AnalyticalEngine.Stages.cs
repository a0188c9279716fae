using System.Collections.Immutable;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

public static partial class AnalyticalEngine
{
    /// <summary>
    /// Each pipeline rank's work in <paramref name="scenario"/>'s step, as the closed form costs it before reducing the
    /// ranks to the slowest: the input of the event-level engine. Null for a plan that does not divide.
    /// </summary>
    public static PipelineStages? Stages(Scenario scenario) => Step(scenario, null, null, withStages: true).Stages;

    /// <summary>
    /// The work of each of <paramref name="pipeline"/> ranks per micro-batch: its layers (placed as
    /// <paramref name="stages"/> says, its dense ones counted where they fall), the embedding on the first and the
    /// output head (with any multi-token prediction modules) on the last, the framework's slowdown without recompute
    /// on its kernels and the exposed activation offload, as the closed form charges the slowest rank.
    /// </summary>
    /// <remarks>
    /// A layer's forward share is its costed forward pass; the embedding's and the head's, whose costs are not split by
    /// pass, is a third (a multiply's backward pass computes two products for its one). The rank's time is split in
    /// those shares, so the two passes add up to the closed form's time for the rank exactly.
    /// </remarks>
    private static ImmutableArray<RankWork> RanksOf(ModelArchitecture model, PipelineLayers stages, int pipeline, Func<int, int, StageCost> layers,
        (StageCost First, StageCost Last) ends, double? slowdown, Duration offload)
    {
        var ranks = ImmutableArray.CreateBuilder<RankWork>(pipeline);
        for (var rank = 0; rank < pipeline; rank++)
        {
            var (start, count) = rank == 0 ? (0, stages.First)
                : rank == pipeline - 1 ? (model.Layers - stages.Last, stages.Last)
                : (stages.First + ((rank - 1) * stages.Middle), stages.Middle);
            var rankLayers = layers(model.DenseLayersIn(start, count), count);
            var boundaries = (rank == 0 ? ends.First : default) + (rank == pipeline - 1 ? ends.Last : default);
            var cost = rankLayers + boundaries;
            var forwardShare = cost.Total > Duration.Zero ? (rankLayers.Forward + (boundaries.Total / 3)) / cost.Total : 0;
            var time = (slowdown is { } factor ? cost with { Compute = cost.Compute * factor } : cost).Total + offload;
            ranks.Add(new RankWork(time * forwardShare, time * (1 - forwardShare)));
        }

        return ranks.MoveToImmutable();
    }
}
