using ClusterTwin.Parallelism;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.Analytical;

/// <summary>The closed form's pipeline schedules: the rank that sets the pace, and the bubble (docs/pipeline-schedules.md).</summary>
public static partial class AnalyticalEngine
{
    /// <summary>
    /// The rank whose work per micro-batch sets the pace under <paramref name="plan"/>'s schedule, and the share of that
    /// work in its forward passes. The first rank holds <paramref name="firstLayers"/> and the embedding, the last
    /// <paramref name="lastLayers"/>, the <paramref name="head"/> and any <paramref name="prediction"/> modules, the slowest
    /// middle one <paramref name="middle"/>. Under DualPipe each rank runs half the micro-batches through its own stage
    /// and half through its mirror's, so the end ranks each take half of the first stage's work and half of the last's.
    /// </summary>
    /// <remarks>
    /// A layer's forward share is its costed forward pass; the embedding's and the head's, a third, as
    /// <see cref="RankCosting"/> splits them.
    /// </remarks>
    private static (StageCost Slowest, double ForwardShare) SlowestRank(ParallelPlan plan, StageCost firstLayers, StageCost middle, StageCost lastLayers, StageCost embedding, StageCost head, StageCost prediction)
    {
        // Summed in the order the step always has, so that 1F1B's figures stay the same to the last bit.
        var end = head + prediction;
        var pipeline = plan.PipelineParallelism;
        (StageCost Cost, Duration Forward) first = (firstLayers + embedding, firstLayers.Forward + (embedding.Total / 3));
        (StageCost Cost, Duration Forward) last = (lastLayers + head + prediction, lastLayers.Forward + (end.Total / 3));
        (StageCost Cost, Duration Forward) inside = (middle, middle.Forward);
        (StageCost Cost, Duration Forward) slowest;
        if (pipeline == 1)
        {
            slowest = (first.Cost + head + prediction, first.Forward + (end.Total / 3));
        }
        else if (plan.Schedule == PipelineScheduleKind.DualPipe)
        {
            (StageCost Cost, Duration Forward) ends = ((first.Cost + last.Cost) * 0.5, (first.Forward + last.Forward) * 0.5);
            slowest = pipeline > 2 && inside.Cost.Total > ends.Cost.Total ? inside : ends;
        }
        else
        {
            // As StageCost.Slowest: the first where it ties the last, a middle only where strictly longer.
            slowest = first.Cost.Total >= last.Cost.Total ? first : last;
            slowest = pipeline > 2 && inside.Cost.Total > slowest.Cost.Total ? inside : slowest;
        }

        return (slowest.Cost, slowest.Cost.Total > Duration.Zero ? slowest.Forward / slowest.Cost.Total : 0);
    }

    /// <summary>The share of <paramref name="stage"/>'s time that computes weight gradients (<see cref="StageCost.WeightGradient"/>).</summary>
    internal static double WeightShare(StageCost stage) => stage.Total > Duration.Zero ? stage.WeightGradient / stage.Total : 0;

    /// <summary>
    /// The time the pipeline's fill and drain leave a rank idle over <paramref name="microBatches"/> micro-batches, where
    /// it spends <paramref name="perMicroBatch"/> per micro-batch (its passes, and <paramref name="sends"/> of sends they
    /// wait for), <paramref name="forward"/> of it in forward passes and <paramref name="weight"/> computing weight
    /// gradients. With <c>T</c> the whole, <c>F</c> the forward, <c>W</c> the weight gradients (so the full backward
    /// pass <c>B</c> is <c>T - F</c>), and <c>m</c> the micro-batches:
    /// <list type="bullet">
    /// <item>1F1B: <c>(p - 1) T / v</c> (Narayanan et al. 2021);</item>
    /// <item>zero bubble (ZB-H1): <c>(p - 1)(T - W) - min(m - 1, p - 1) min(W, F)</c>: the DeepSeek-V3 report's
    /// <c>(p - 1)(F + B - 2W)</c> where each rank defers all its weight gradients (<c>m &gt;= p</c>) and they fit the
    /// forward passes they stand in for (<c>W &lt;= F</c>), and the replay's bubble beyond;</item>
    /// <item>DualPipe: <c>(p/2 - 1)(F&amp;B + B - 3W)</c>, the paired forward and backward chunk <c>F&amp;B</c> taking
    /// <c>F + B</c>: <c>(p/2 - 1)(F + 2B - 3W)</c> where the forward pass is no longer than the input gradient
    /// (<c>F &lt;= B - W</c>), <c>(p/2 - 1)(2F + B - 2W)</c> beyond; on the passes' time without the sends, and one send
    /// for each of the <c>p/2 - 1</c>, as the replay waits for them.</item>
    /// </list>
    /// The event-level replay of each schedule gives these exactly on even stages without sends (tested).
    /// </summary>
    internal static Duration PipelineBubble(ParallelPlan plan, double microBatches, Duration perMicroBatch, Duration sends, Duration forward, Duration weight)
    {
        var pipeline = plan.PipelineParallelism;
        if (pipeline == 1)
        {
            return Duration.Zero;
        }

        switch (plan.Schedule)
        {
            case PipelineScheduleKind.ZeroBubble:
                // Rank r defers min(r, m) weight gradients: as many as micro-batches where there are fewer than ranks.
                var deferred = Math.Min(microBatches - 1, pipeline - 1);
                return Duration.Max(Duration.Zero, ((perMicroBatch - weight) * (pipeline - 1)) - (Duration.Min(weight, forward) * Math.Max(0, deferred)));
            case PipelineScheduleKind.DualPipe:
                var passes = perMicroBatch - sends;
                var backward = passes - forward;
                var unit = Duration.Max(forward + (backward * 2) - (weight * 3), (forward * 2) + backward - (weight * 2));
                // perMicroBatch holds a micro-batch's two sends (forward and backward); the replay waits for one a unit.
                return Duration.Max(Duration.Zero, unit + (sends / 2)) * ((pipeline / 2) - 1);
            default:
                return perMicroBatch * ((pipeline - 1) / (double)plan.VirtualStages);
        }
    }
}
