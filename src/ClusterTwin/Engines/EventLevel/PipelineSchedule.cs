namespace ClusterTwin.Engines.EventLevel;

/// <summary>
/// The order in which each pipeline rank runs its passes: under zero bubble (<see cref="ZeroBubble"/>), DualPipe
/// (<see cref="DualPipe"/>), or, by default, Megatron-LM's one-forward-one-backward schedule (1F1B,
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

    /// <summary>
    /// The passes rank <paramref name="rank"/> of <paramref name="pipeline"/> runs under zero bubble (ZB-H1, Qi et al.
    /// 2024, section 3.1), in order: 1F1B's, each backward pass split into its input gradient and its weight gradients,
    /// the weight gradients of micro-batch <c>k</c> run after the input gradient of <c>k + rank</c>, and the ones left
    /// over at the end. Every rank keeps at most <c>p</c> micro-batches whose weight gradients have not run.
    /// </summary>
    public static PipelinePass[] ZeroBubble(int rank, int pipeline, int microBatches)
    {
        var warmUp = WarmUp(rank, pipeline, microBatches, 1);
        var passes = new List<PipelinePass>(3 * microBatches);
        for (var microBatch = 0; microBatch < warmUp; microBatch++)
        {
            passes.Add(new PipelinePass(PassKind.Forward, microBatch, 0));
        }

        var weights = 0;
        for (var microBatch = 0; microBatch < microBatches; microBatch++)
        {
            if (warmUp + microBatch < microBatches)
            {
                passes.Add(new PipelinePass(PassKind.Forward, warmUp + microBatch, 0));
            }

            passes.Add(new PipelinePass(PassKind.InputGradient, microBatch, 0));
            if (microBatch >= rank)
            {
                passes.Add(new PipelinePass(PassKind.WeightGradient, weights++, 0));
            }
        }

        while (weights < microBatches)
        {
            passes.Add(new PipelinePass(PassKind.WeightGradient, weights++, 0));
        }

        return [.. passes];
    }

    /// <summary>
    /// The passes rank <paramref name="rank"/> of <paramref name="pipeline"/> (even) runs under DualPipe over
    /// <paramref name="microBatches"/> (even, at least <c>2p</c>), half fed from each end, in the eight steps of
    /// deepseek-ai/DualPipe's <c>DualPipe.step</c>. A rank in the first half runs its own stage for the direction from
    /// the first rank ("early") and its mirror for the direction from the last ("late"); a rank in the second half the
    /// other way round. With <c>h</c> the rank's distance from the nearer end and <c>n = p/2</c>:
    /// <list type="number">
    /// <item><c>2(n - h - 1)</c> early forward passes;</item>
    /// <item><c>h + 1</c> times an early then a late forward pass;</item>
    /// <item><c>n - h - 1</c> of a late input gradient, a weight gradient, a late forward pass;</item>
    /// <item><c>m/2 - p + h + 1</c> of an early forward paired with a late backward, then a late forward paired with an early backward;</item>
    /// <item><c>n - h - 1</c> of a late backward, then a late forward paired with an early backward;</item>
    /// <item><c>h + 1</c> of a late and an early backward, the second half of them split into input and weight gradients;</item>
    /// <item><c>n - h - 1</c> of a weight gradient and an early input gradient;</item>
    /// <item>the <c>h + 1</c> weight gradients left, first in first out.</item>
    /// </list>
    /// </summary>
    public static PipelinePass[] DualPipe(int rank, int pipeline, int microBatches)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, pipeline);
        if (pipeline % 2 != 0 || microBatches % 2 != 0 || microBatches < 2 * pipeline)
        {
            throw new ArgumentException($"DualPipe needs an even pipeline ({pipeline}) and an even number of micro-batches ({microBatches}), at least twice the pipeline", nameof(microBatches));
        }

        var half = pipeline / 2;
        var near = Math.Min(rank, pipeline - 1 - rank);
        // The direction a rank runs as its early stage: from the first rank in the first half, from the last in the second.
        var early = rank < half ? 0 : 1;
        var late = 1 - early;
        var (forwards, backwards) = (new int[2], new int[2]);
        var deferred = new Queue<PipelinePass>();
        var passes = new List<PipelinePass>(3 * microBatches);
        PipelinePass Forward(int direction, bool paired = false) => new(PassKind.Forward, forwards[direction]++, direction, paired);
        PipelinePass Backward(int direction, bool split)
        {
            var pass = new PipelinePass(split ? PassKind.InputGradient : PassKind.Backward, backwards[direction]++, direction);
            if (split)
            {
                deferred.Enqueue(pass with { Kind = PassKind.WeightGradient });
            }

            return pass;
        }

        void Pair(int forward, int backward)
        {
            passes.Add(Forward(forward, paired: true));
            passes.Add(Backward(backward, split: false));
        }

        for (var step = 0; step < 2 * (half - near - 1); step++)
        {
            passes.Add(Forward(early));
        }

        for (var step = 0; step < near + 1; step++)
        {
            passes.Add(Forward(early));
            passes.Add(Forward(late));
        }

        for (var step = 0; step < half - near - 1; step++)
        {
            passes.Add(Backward(late, split: true));
            passes.Add(deferred.Dequeue());
            passes.Add(Forward(late));
        }

        for (var step = 0; step < (microBatches / 2) - pipeline + near + 1; step++)
        {
            Pair(early, late);
            Pair(late, early);
        }

        for (var step = 0; step < half - near - 1; step++)
        {
            passes.Add(Backward(late, split: false));
            Pair(late, early);
        }

        // The second half of these backward passes split their weight gradients off, from the middle on.
        var split = false;
        for (var step = 0; step < near + 1; step++)
        {
            split |= step == (near + 1) / 2 && near % 2 == 1;
            passes.Add(Backward(late, split));
            split |= step == (near + 1) / 2 && near % 2 == 0;
            passes.Add(Backward(early, split));
        }

        for (var step = 0; step < half - near - 1; step++)
        {
            passes.Add(deferred.Dequeue());
            passes.Add(Backward(early, split: true));
        }

        while (deferred.Count > 0)
        {
            passes.Add(deferred.Dequeue());
        }

        return [.. passes];
    }
}
