using System.Collections.Immutable;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.EventLevel;

/// <summary>
/// The event-level engine's training step: every pass of every micro-batch on every pipeline rank, in the order
/// <see cref="PipelineSchedule"/> gives for the stages' schedule, each starting when its rank is free and its input has
/// arrived from the rank before (or its gradient from the rank after), sends taking <see cref="PipelineStages.Send"/>.
/// Each rank runs its own time (<see cref="PipelineStages.Ranks"/>), where the closed form charges every rank the
/// slowest's; a rank stands for every chip that runs its work, so the cost grows with the passes, not the chips.
/// </summary>
/// <remarks>
/// A replay reuses its arrays, so many replays of one step (straggler draws) allocate nothing. Not thread-safe.
/// </remarks>
public sealed partial class PipelineTimeline
{
    /// <summary>The most passes (twice the micro-batches, times the chunks, times the ranks under 1F1B) a step may replay.</summary>
    public const int MostPasses = 1 << 20;

    private readonly int pipeline;
    private readonly int chunks;
    private readonly int microBatches;
    private readonly double send;
    private readonly PipelineScheduleKind schedule;
    private readonly RankWork[] rankWork;
    private readonly double chunkShare;
    private readonly double[] forwardEnd;
    private readonly double[] backwardEnd;
    private readonly int[] warmUp;
    private readonly PipelinePass[][]? orders;
    private readonly int[] total;
    private readonly int[] position;
    private readonly double[] free;
    private readonly double[] busy;
    private readonly int[] waiting;
    private readonly bool[] queued;
    private readonly bool sendsOverlap;
    private int waitingCount;

    /// <summary>Prepares replays of <paramref name="stages"/>.</summary>
    /// <exception cref="ArgumentException">The step has more than <see cref="MostPasses"/> passes, or its schedule does not hold.</exception>
    public PipelineTimeline(PipelineStages stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        (pipeline, send, schedule) = (stages.Pipeline, stages.Send.Seconds, stages.Schedule);
        if (pipeline < 1 || (stages.VirtualStages > 1 && pipeline == 1))
        {
            throw new ArgumentException($"a pipeline of {pipeline} ranks and {stages.VirtualStages} chunks per rank is not a schedule (chunks need two ranks or more)", nameof(stages));
        }

        if (stages.Ranks.Any(rank => !IsTime(rank.Forward.Seconds) || !IsTime(rank.Backward.Seconds) || !IsTime(rank.WeightGradient.Seconds) || rank.WeightGradient > rank.Backward)
            || !IsTime(send) || !IsTime(stages.AfterPipeline.Seconds) || !(stages.PowerStretch >= 1 && double.IsFinite(stages.PowerStretch)))
        {
            throw new ArgumentException("every rank's work, the send and what follows the pipeline must be finite times of at least zero (a rank's weight gradients no more than its backward pass), and the power stretch a finite factor of at least 1", nameof(stages));
        }

        if (PipelineScheduleKeys.Problem(schedule, pipeline, stages.VirtualStages, stages.MicroBatches) is { } problem)
        {
            throw new ArgumentException(problem, nameof(stages));
        }

        if (Passes(stages) > MostPasses)
        {
            throw new ArgumentException($"the step has {Passes(stages):N0} passes ({stages.MicroBatches:N0} micro-batches x {stages.VirtualStages} chunks x {pipeline} ranks, each pass of each): more than the {MostPasses:N0} a replay takes", nameof(stages));
        }

        // DualPipe's two directions are two chunks of half the micro-batches each.
        var dualPipe = schedule == PipelineScheduleKind.DualPipe;
        rankWork = [.. stages.Ranks];
        sendsOverlap = stages.SendsOverlap;
        (chunks, microBatches) = dualPipe ? (2, stages.MicroBatches / 2) : (stages.VirtualStages, stages.MicroBatches);
        // Under 1F1B each chunk is an equal share of the rank's work; DualPipe's directions each run a whole stage.
        chunkShare = dualPipe ? 1 : chunks;
        var slots = pipeline * chunks * microBatches;
        (forwardEnd, backwardEnd) = (new double[slots], new double[slots]);
        orders = schedule switch
        {
            PipelineScheduleKind.ZeroBubble => [.. Enumerable.Range(0, pipeline).Select(rank => PipelineSchedule.ZeroBubble(rank, pipeline, stages.MicroBatches))],
            PipelineScheduleKind.DualPipe => [.. Enumerable.Range(0, pipeline).Select(rank => PipelineSchedule.DualPipe(rank, pipeline, stages.MicroBatches))],
            _ => null,
        };
        // 1F1B's order is worked out as it runs, from each rank's warm-up; the others' are stored.
        warmUp = orders is null ? [.. Enumerable.Range(0, pipeline).Select(rank => PipelineSchedule.WarmUp(rank, pipeline, microBatches, chunks))] : [];
        total = [.. Enumerable.Range(0, pipeline).Select(rank => orders?[rank].Length ?? 2 * microBatches * chunks)];
        (position, free, busy, waiting, queued) = (new int[pipeline], new double[pipeline], new double[pipeline], new int[pipeline], new bool[pipeline]);
    }

    /// <summary>The passes of <paramref name="stages"/>'s step under its schedule.</summary>
    public static long Passes(PipelineStages stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        return Passes(stages.Pipeline, stages.VirtualStages, stages.MicroBatches, stages.Schedule);
    }

    /// <summary>
    /// The passes a replay of <paramref name="pipeline"/> ranks of <paramref name="virtualStages"/> chunks over
    /// <paramref name="microBatches"/> micro-batches runs under <paramref name="schedule"/>: forward and backward under
    /// 1F1B (<c>2 m v p</c>); and the weight gradients apart under zero bubble (<c>3 m p</c>); under DualPipe, the
    /// weight gradients of the <c>p - h - 1</c> backward passes each rank splits, <c>h</c> its distance from the nearer end.
    /// </summary>
    public static long Passes(int pipeline, int virtualStages, long microBatches, PipelineScheduleKind schedule = PipelineScheduleKind.OneForwardOneBackward)
    {
        var whole = 2L * microBatches * virtualStages * pipeline;
        var half = pipeline / 2;
        return schedule switch
        {
            PipelineScheduleKind.ZeroBubble => 3L * microBatches * pipeline,
            // Twice the sum of p - h - 1 over h from 0 to p/2 - 1.
            PipelineScheduleKind.DualPipe => whole + (2L * ((half * (pipeline - 1L)) - (half * (half - 1L) / 2))),
            _ => whole,
        };
    }

    /// <summary>Replays <paramref name="stages"/>'s step once, keeping every pass.</summary>
    public static StepTimeline Of(PipelineStages stages)
    {
        var timeline = new PipelineTimeline(stages);
        var recording = new Recording(ImmutableArray.CreateBuilder<TimelineSpan>(timeline.total.Sum()), timeline.forwardEnd.Length, timeline.pipeline);
        var pipelineTime = timeline.Replay<Kept>(ReadOnlySpan<double>.Empty, recording);
        var spans = recording.Spans.MoveToImmutable();
        var pipeline = Duration.FromSeconds(pipelineTime);
        return new StepTimeline(stages, spans, pipeline, [.. timeline.busy.Select(Duration.FromSeconds)], CriticalPath.Of(spans, recording.Cause, pipeline, timeline.pipeline));
    }

    /// <summary>
    /// The pipeline's time with each rank's passes slowed by its factor in <paramref name="rankSlowdowns"/> (one per
    /// rank, above zero: below 1 a rank runs faster than its work says; empty for none): a straggler holds back the
    /// rank whose work it shares.
    /// </summary>
    public Duration Pipeline(ReadOnlySpan<double> rankSlowdowns)
    {
        if (!rankSlowdowns.IsEmpty && rankSlowdowns.Length != pipeline)
        {
            throw new ArgumentException($"expected one slowdown per rank ({pipeline}), got {rankSlowdowns.Length}", nameof(rankSlowdowns));
        }

        foreach (var slowdown in rankSlowdowns)
        {
            if (!(slowdown > 0 && double.IsFinite(slowdown)))
            {
                throw new ArgumentOutOfRangeException(nameof(rankSlowdowns), slowdown, "a rank's slowdown is a finite factor above zero");
            }
        }

        return Duration.FromSeconds(Replay<Unkept>(rankSlowdowns, null));
    }
}
