using System.Collections.Immutable;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;

namespace ClusterTwin.Engines;

/// <summary>One pipeline rank's time for one micro-batch through all its chunks, split into the forward and the backward pass.</summary>
/// <param name="Forward">Its forward passes, their exposed communication included.</param>
/// <param name="Backward">Its backward passes with their recompute, exposed communication and host waits, and any activation offload the passes do not cover.</param>
/// <param name="WeightGradient">
/// The part of <paramref name="Backward"/> that computes the weights' gradients, which a zero-bubble schedule runs as a
/// pass of its own; the rest computes the input's gradient, which the rank before waits for.
/// </param>
public readonly record struct RankWork(Duration Forward, Duration Backward, Duration WeightGradient = default)
{
    /// <summary>The backward pass without its weight gradients: what the rank before waits for.</summary>
    public Duration InputGradient => Backward - WeightGradient;

    /// <summary>Both passes.</summary>
    public Duration Total => Forward + Backward;
}

/// <summary>
/// What the analytical engine found for each pipeline rank, as the event-level engine replays it: every rank's own time
/// per micro-batch (the closed form charges every rank the slowest's), the sends between ranks, and what follows the
/// pipeline in the step (the exposed data-parallel communication and the optimizer). One rank stands for all its
/// data-, tensor-, context- and expert-parallel peers, which run the same work.
/// </summary>
/// <param name="Ranks">Each pipeline rank's work for one micro-batch, in pipeline order.</param>
/// <param name="VirtualStages">Chunks per rank (1 without the interleaved schedule); each chunk is an equal share of its rank's work.</param>
/// <param name="MicroBatches">Micro-batches per step on each data-parallel replica.</param>
/// <param name="Send">One send of activations (or their gradient) from a chunk to the next rank's.</param>
/// <param name="SendsOverlap">
/// Whether a send runs beside the sender's next chunk (Megatron-Core's <c>overlap_p2p_comm</c>); otherwise the sender
/// waits for it to finish, as the closed form charges it.
/// </param>
/// <param name="AfterPipeline">What the step spends once the pipeline drains: the data-parallel communication the backward passes do not hide, and the optimizer step.</param>
/// <param name="PowerStretch">The factor the chips' power limit stretches the step by (1 where they stay within it).</param>
/// <param name="Schedule">
/// The order the ranks run their passes in. Under DualPipe, <paramref name="Ranks"/> are the stages: rank <c>r</c> runs
/// stage <c>r</c> for the micro-batches fed from the first rank and stage <c>p - 1 - r</c> for those fed from the last.
/// </param>
public sealed record PipelineStages(ImmutableArray<RankWork> Ranks, int VirtualStages, int MicroBatches, Duration Send, bool SendsOverlap, Duration AfterPipeline, double PowerStretch,
    PipelineScheduleKind Schedule = PipelineScheduleKind.OneForwardOneBackward)
{
    /// <summary>Pipeline ranks.</summary>
    public int Pipeline => Ranks.Length;

    /// <summary>
    /// Rank <paramref name="rank"/>'s work per micro-batch: its stage's, or under DualPipe half its stage's and half its
    /// mirror's (it runs each for half the micro-batches).
    /// </summary>
    public Duration RankWork(int rank) => Schedule == PipelineScheduleKind.DualPipe ? (Ranks[rank].Total + Ranks[Pipeline - 1 - rank].Total) / 2 : Ranks[rank].Total;

    /// <summary>The slowest rank's work per micro-batch (<see cref="RankWork"/>): what the closed form charges every rank.</summary>
    public Duration SlowestRank => Enumerable.Range(0, Pipeline).Aggregate(Duration.Zero, (slowest, rank) => Duration.Max(slowest, RankWork(rank)));
}
