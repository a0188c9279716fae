namespace ClusterTwin.Parallelism;

/// <summary>
/// The order in which pipeline ranks run their passes. Each trades the bubble (the time a rank waits at the step's
/// start and end) against memory and the passes it must split.
/// </summary>
/// <remarks>
/// The bubbles, per micro-batch's forward pass <c>F</c>, full backward pass <c>B</c> and the weight-gradient part of it
/// <c>W</c>, over <c>p</c> ranks, are those of the DeepSeek-V3 technical report (arXiv 2412.19437, table 2, and the
/// deepseek-ai/DualPipe README): 1F1B <c>(p - 1)(F + B)</c>, ZB1P <c>(p - 1)(F + B - 2W)</c>, DualPipe
/// <c>(p/2 - 1)(F&amp;B + B - 3W)</c>. docs/pipeline-schedules.md derives where each holds.
/// </remarks>
public enum PipelineScheduleKind
{
    /// <summary>
    /// One forward, one backward (1F1B; Narayanan et al. 2021), plain or interleaved over virtual stages, as
    /// Megatron-Core runs it: the default.
    /// </summary>
    OneForwardOneBackward,

    /// <summary>
    /// Zero bubble, ZB-H1 (Qi et al., "Zero Bubble Pipeline Parallelism", ICLR 2024): 1F1B with each backward pass split
    /// into the input gradient, which the rank before waits for, and the weight gradient, which nobody waits for. Rank
    /// <c>r</c> defers its weight-gradient passes by <c>r</c> micro-batches into the cool-down, where 1F1B waits: the
    /// bubble shrinks to <c>(p - 1)(F + B - W) - min(m - 1, p - 1) min(W, F)</c>, and every rank keeps at most <c>p</c>
    /// micro-batches, the first rank's 1F1B peak. Needs no virtual stages.
    /// </summary>
    ZeroBubble,

    /// <summary>
    /// DualPipe (DeepSeek-V3): micro-batches fed from both ends of the pipeline, each rank holding the stage it runs for
    /// one direction and its mirror for the other (twice the parameters), a forward and a backward pass of the two
    /// directions paired so that each one's communication hides behind the other's work, and the last passes split
    /// into input and weight gradients. Bubble <c>(p/2 - 1)(F&amp;B + B - 3W)</c> where the forward pass is no longer
    /// than the input gradient (docs/pipeline-schedules.md has the rest); <c>p + 1</c> micro-batches in flight
    /// per rank. Needs an even pipeline, no virtual stages, and an even number of micro-batches, at least <c>2p</c>.
    /// </summary>
    DualPipe,
}

/// <summary>The scenario keys of <see cref="PipelineScheduleKind"/>.</summary>
public static class PipelineScheduleKeys
{
    /// <summary>Each schedule by its key.</summary>
    public static KeyDictionary<PipelineScheduleKind> All { get; } = new(
        ("1f1b", PipelineScheduleKind.OneForwardOneBackward), ("zero-bubble", PipelineScheduleKind.ZeroBubble), ("dualpipe", PipelineScheduleKind.DualPipe));

    /// <summary>The key of <paramref name="schedule"/>.</summary>
    public static string Key(PipelineScheduleKind schedule) => All.KeyOf(schedule);

    /// <summary>
    /// The fewest micro-batches per step, <paramref name="atLeast"/> or more, that <paramref name="plan"/>'s schedule
    /// runs (<see cref="Problem"/> and the interleaved schedule's rule): a multiple of the pipeline size with virtual
    /// stages; under DualPipe an even number, at least two per rank.
    /// </summary>
    public static long FewestMicroBatches(ParallelPlan plan, long atLeast)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var pipeline = plan.PipelineParallelism;
        var count = Math.Max(1, atLeast);
        if (plan.VirtualStages > 1)
        {
            return (count + pipeline - 1) / pipeline * pipeline;
        }

        return plan.Schedule == PipelineScheduleKind.DualPipe ? Math.Max(2L * pipeline, (count + 1) / 2 * 2) : count;
    }

    /// <summary>
    /// Why <paramref name="schedule"/> cannot run <paramref name="pipeline"/> ranks of <paramref name="virtualStages"/>
    /// chunks over <paramref name="microBatches"/> micro-batches per step; null where it can.
    /// </summary>
    public static string? Problem(PipelineScheduleKind schedule, int pipeline, int virtualStages, long microBatches)
    {
        if (schedule == PipelineScheduleKind.OneForwardOneBackward)
        {
            return null;
        }

        var key = Key(schedule);
        if (virtualStages > 1)
        {
            return $"schedule {key} runs one chunk per rank, but the plan has virtual_stages {virtualStages}: drop virtual_stages, or use schedule 1f1b (interleaved)";
        }

        if (schedule == PipelineScheduleKind.DualPipe && (pipeline < 2 || pipeline % 2 != 0))
        {
            return $"schedule dualpipe feeds the pipeline from both ends, so it needs an even pipeline of at least 2 ranks, not {pipeline}";
        }

        return schedule == PipelineScheduleKind.DualPipe && (microBatches % 2 != 0 || microBatches < 2L * pipeline)
            ? $"schedule dualpipe splits the micro-batches between its two directions and needs at least two per rank: an even number, at least {2 * pipeline} for pipeline {pipeline}, not {microBatches} (raise the global batch, or lower the micro-batch size or the data parallelism)"
            : null;
    }
}
