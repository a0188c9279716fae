namespace ClusterTwin.Engines.EventLevel;

/// <summary>One pass of one micro-batch through one chunk of a pipeline rank.</summary>
/// <param name="Backward">The backward pass (otherwise the forward).</param>
/// <param name="MicroBatch">Which micro-batch of the step, from 0.</param>
/// <param name="Chunk">Which of the rank's chunks (virtual stages), from 0.</param>
public readonly record struct PipelinePass(bool Backward, int MicroBatch, int Chunk);

/// <summary>
/// The order in which each pipeline rank runs its passes under Megatron-LM's one-forward-one-backward schedule (1F1B,
/// Narayanan et al. 2021, section 2.2), plain or interleaved over virtual stages, as Megatron-Core's
/// <c>pipeline_parallel.schedules</c> orders them (<c>get_pp_rank_microbatches</c>, with the default
/// <c>microbatch_group_size_per_vp_stage</c> of the pipeline size): a warm-up of forward passes, a steady phase
/// alternating one forward and one backward, and a cool-down of backward passes.
/// </summary>
public static class PipelineSchedule
{
    /// <summary>
    /// The passes rank <paramref name="rank"/> of <paramref name="pipeline"/> runs in a step of
    /// <paramref name="microBatches"/> micro-batches over <paramref name="virtualStages"/> chunks, in order.
    /// </summary>
    /// <remarks>
    /// Plain 1F1B warms up with <c>min(p - r - 1, m)</c> forward passes. The interleaved schedule warms up with
    /// <c>min(2(p - r - 1) + (v - 1)p, mv)</c>, and walks the chunks in groups of <c>p</c> micro-batches: the i-th
    /// forward pass is chunk <c>(i mod pv) / p</c> of micro-batch <c>(i / pv) p + i mod p</c>, the i-th backward pass
    /// the same micro-batch's chunk counted from the last. It needs the micro-batches to be a multiple of the pipeline
    /// size, as the plan checks require. Megatron-Core before the group size ran every forward pass first where
    /// <c>m = p</c>; the extra forward pass it adds under <c>overlap_moe_expert_parallel_comm</c> is not drawn.
    /// </remarks>
    public static PipelinePass[] Of(int rank, int pipeline, int microBatches, int virtualStages)
    {
        var warmUp = WarmUp(rank, pipeline, microBatches, virtualStages);
        var passes = new PipelinePass[2 * microBatches * virtualStages];
        for (var position = 0; position < passes.Length; position++)
        {
            passes[position] = At(position, warmUp, pipeline, microBatches, virtualStages);
        }

        return passes;
    }

    /// <summary>The forward passes rank <paramref name="rank"/> runs before its first backward pass.</summary>
    public static int WarmUp(int rank, int pipeline, int microBatches, int virtualStages)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pipeline, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatches, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(virtualStages, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, pipeline);
        if (virtualStages > 1 && microBatches % pipeline != 0)
        {
            throw new ArgumentException($"the interleaved schedule needs the micro-batches ({microBatches}) to be a multiple of the pipeline size ({pipeline})", nameof(microBatches));
        }

        var total = microBatches * virtualStages;
        return virtualStages == 1 ? Math.Min(pipeline - rank - 1, microBatches)
            : Math.Min(((pipeline - rank - 1) * 2) + ((virtualStages - 1) * pipeline), total);
    }

    /// <summary>
    /// The pass at <paramref name="position"/> in the order of a rank that warms up with <paramref name="warmUp"/>
    /// forward passes (<see cref="WarmUp"/>): worked out, not stored, so that a long schedule costs no memory.
    /// </summary>
    public static PipelinePass At(int position, int warmUp, int pipeline, int microBatches, int virtualStages)
    {
        var total = microBatches * virtualStages;
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, 2 * total);
        if (position < warmUp)
        {
            return Pass(position, backward: false, pipeline, virtualStages);
        }

        var steady = position - warmUp;
        return steady < 2 * (total - warmUp)
            ? Pass(steady % 2 == 0 ? warmUp + (steady / 2) : steady / 2, backward: steady % 2 == 1, pipeline, virtualStages)
            : Pass(position - total, backward: true, pipeline, virtualStages);
    }

    /// <summary>The <paramref name="ordinal"/>-th forward (or backward) pass of a rank, counted from 0.</summary>
    private static PipelinePass Pass(int ordinal, bool backward, int pipeline, int virtualStages)
    {
        var group = pipeline * virtualStages;
        var chunk = ordinal % group / pipeline;
        return new PipelinePass(backward, (ordinal / group * pipeline) + (ordinal % pipeline), backward ? virtualStages - 1 - chunk : chunk);
    }
}
