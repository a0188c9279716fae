using System.Collections.Immutable;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// What one pipeline rank of a scenario's layout costs on its chips for one micro-batch, whatever layers it holds: its
/// layers (the dense ones counted where they fall), the embedding on the first rank and the output head (with any
/// multi-token prediction modules) on the last, the framework's slowdown without recompute on its kernels and the
/// exposed activation offload, as the closed form charges the slowest rank; the sends between ranks; and what a rank
/// spends after its last pass. The closed form reduces the ranks to three (first, middle, last); the event-level engine
/// and a pipeline over two kinds of chip take them one by one.
/// </summary>
internal sealed class RankCosting(ModelArchitecture model, Func<int, int, StageCost> layers, StageCost embedding, StageCost end, double? slowdown, Duration offload,
    Duration send, bool sendsOverlap, AfterPipelineCost afterPipeline)
{
    /// <summary>One send of activations (or their gradient) from a chunk to the next rank's.</summary>
    public Duration Send => send;

    /// <summary>Whether a send runs beside the sender's next chunk (<see cref="PipelineStages.SendsOverlap"/>).</summary>
    public bool SendsOverlap => sendsOverlap;

    /// <summary>
    /// The rank holding the <paramref name="count"/> layers from <paramref name="start"/>, with the embedding where it
    /// is the <paramref name="first"/> rank and the head where it is the <paramref name="last"/>: its costs by kind
    /// (with the slowdown without recompute), and its time split into the forward and the backward pass.
    /// </summary>
    /// <remarks>
    /// A layer's forward share is its costed forward pass; the embedding's and the head's, whose costs are not split by
    /// pass, is a third (a multiply's backward pass computes two products for its one). The rank's time is split in
    /// those shares, so the two passes add up to the closed form's time for the rank exactly. The weight gradients are
    /// the same share of the time as of the rank's costs.
    /// </remarks>
    public (StageCost Cost, RankWork Work) Rank(int start, int count, bool first, bool last)
    {
        var rankLayers = layers(model.DenseLayersIn(start, count), count);
        var boundaries = (first ? embedding : default) + (last ? end : default);
        var cost = rankLayers + boundaries;
        var forwardShare = cost.Total > Duration.Zero ? (rankLayers.Forward + (boundaries.Total / 3)) / cost.Total : 0;
        var slowed = slowdown is { } factor ? cost with { Compute = cost.Compute * factor, WeightGradient = cost.WeightGradient * factor } : cost;
        var time = slowed.Total + offload;
        var backward = time * (1 - forwardShare);
        return (slowed, new RankWork(time * forwardShare, backward, Duration.Min(backward, time * AnalyticalEngine.WeightShare(slowed))));
    }

    /// <summary>Every rank's work under <paramref name="stages"/>' placement on <paramref name="pipeline"/> ranks.</summary>
    public ImmutableArray<RankWork> Ranks(PipelineLayers stages, int pipeline)
    {
        var ranks = ImmutableArray.CreateBuilder<RankWork>(pipeline);
        for (var rank = 0; rank < pipeline; rank++)
        {
            var (start, count) = stages.OfRank(rank, pipeline, model.Layers);
            ranks.Add(Rank(start, count, rank == 0, rank == pipeline - 1).Work);
        }

        return ranks.MoveToImmutable();
    }

    /// <summary>
    /// What a rank whose chips hold <paramref name="parameters"/> (and <paramref name="expertParameters"/> of routed
    /// experts) spends once its last backward pass is done, its passes costing <paramref name="stage"/>: the gradient
    /// reduction those passes do not hide, and the optimizer step.
    /// </summary>
    public Duration AfterPipeline(double parameters, double expertParameters, StageCost stage)
    {
        var (reduction, optimizer, _) = afterPipeline.Of(parameters, expertParameters, stage);
        return reduction + optimizer;
    }
}
