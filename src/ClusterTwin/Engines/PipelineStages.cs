using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Engines;

/// <summary>One pipeline rank's time for one micro-batch through all its chunks, split into the forward and the backward pass.</summary>
/// <param name="Forward">Its forward passes, their exposed communication included.</param>
/// <param name="Backward">Its backward passes with their recompute, exposed communication and host waits, and any activation offload the passes do not cover.</param>
public readonly record struct RankWork(Duration Forward, Duration Backward)
{
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
public sealed record PipelineStages(ImmutableArray<RankWork> Ranks, int VirtualStages, int MicroBatches, Duration Send, bool SendsOverlap, Duration AfterPipeline, double PowerStretch)
{
    /// <summary>Pipeline ranks.</summary>
    public int Pipeline => Ranks.Length;

    /// <summary>The slowest rank's work per micro-batch: what the closed form charges every rank.</summary>
    public Duration SlowestRank => Ranks.Aggregate(Duration.Zero, (slowest, rank) => Duration.Max(slowest, rank.Total));
}
