using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.EventLevel;

/// <summary>
/// The event-level engine's training step: every forward and backward pass of every micro-batch on every pipeline
/// rank, in the order <see cref="PipelineSchedule"/> gives, each starting when its rank is free and its input has
/// arrived from the rank before (or its gradient from the rank after), sends taking <see cref="PipelineStages.Send"/>.
/// Each rank runs its own time (<see cref="PipelineStages.Ranks"/>), where the closed form charges every rank the
/// slowest's; a rank stands for every chip that runs its work, so the cost grows with the passes, not the chips.
/// </summary>
/// <remarks>
/// A replay reuses its arrays, so many replays of one step (straggler draws) allocate nothing. Not thread-safe.
/// </remarks>
public sealed class PipelineTimeline
{
    /// <summary>The most passes (twice the micro-batches, times the chunks, times the ranks) a step may replay.</summary>
    public const int MostPasses = 1 << 20;

    private readonly PipelineStages stages;
    private readonly int pipeline;
    private readonly int chunks;
    private readonly int microBatches;
    private readonly double send;
    private readonly double[] forwardEnd;
    private readonly double[] backwardEnd;
    private readonly int[] warmUp;
    private readonly int[] position;
    private readonly double[] free;
    private readonly double[] busy;
    private readonly int[] waiting;
    private readonly bool[] queued;

    /// <summary>Prepares replays of <paramref name="stages"/>.</summary>
    /// <exception cref="ArgumentException">The step has more than <see cref="MostPasses"/> passes, or its schedule does not hold.</exception>
    public PipelineTimeline(PipelineStages stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        (this.stages, pipeline, chunks, microBatches, send) = (stages, stages.Pipeline, stages.VirtualStages, stages.MicroBatches, stages.Send.Seconds);
        if (pipeline < 1 || (chunks > 1 && pipeline == 1))
        {
            throw new ArgumentException($"a pipeline of {pipeline} ranks and {chunks} chunks per rank is not a schedule (chunks need two ranks or more)", nameof(stages));
        }

        if (stages.Ranks.Any(rank => !IsTime(rank.Forward.Seconds) || !IsTime(rank.Backward.Seconds)) || !IsTime(send) || !IsTime(stages.AfterPipeline.Seconds) || !(stages.PowerStretch >= 1 && double.IsFinite(stages.PowerStretch)))
        {
            throw new ArgumentException("every rank's work, the send and what follows the pipeline must be finite times of at least zero, and the power stretch a finite factor of at least 1", nameof(stages));
        }

        if (Passes(stages) > MostPasses)
        {
            throw new ArgumentException($"the step has {Passes(stages):N0} passes ({microBatches:N0} micro-batches x {chunks} chunks x {pipeline} ranks, forward and backward): more than the {MostPasses:N0} a replay takes", nameof(stages));
        }

        var slots = pipeline * chunks * microBatches;
        (forwardEnd, backwardEnd) = (new double[slots], new double[slots]);
        warmUp = [.. Enumerable.Range(0, pipeline).Select(rank => PipelineSchedule.WarmUp(rank, pipeline, microBatches, chunks))];
        (position, free, busy, waiting, queued) = (new int[pipeline], new double[pipeline], new double[pipeline], new int[pipeline], new bool[pipeline]);
    }

    /// <summary>The passes of <paramref name="stages"/>'s step, forward and backward: <c>2 m v p</c>.</summary>
    public static long Passes(PipelineStages stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        return Passes(stages.Pipeline, stages.VirtualStages, stages.MicroBatches);
    }

    /// <summary>The passes a replay of <paramref name="pipeline"/> ranks of <paramref name="virtualStages"/> chunks over <paramref name="microBatches"/> micro-batches runs, forward and backward.</summary>
    public static long Passes(int pipeline, int virtualStages, long microBatches) => 2L * microBatches * virtualStages * pipeline;

    /// <summary>Replays <paramref name="stages"/>'s step once, keeping every pass.</summary>
    public static StepTimeline Of(PipelineStages stages)
    {
        var timeline = new PipelineTimeline(stages);
        var spans = ImmutableArray.CreateBuilder<TimelineSpan>((int)Passes(stages));
        var pipelineTime = timeline.Replay(ReadOnlySpan<double>.Empty, spans);
        return new StepTimeline(stages, spans.MoveToImmutable(), Duration.FromSeconds(pipelineTime), [.. timeline.busy.Select(Duration.FromSeconds)]);
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

        return Duration.FromSeconds(Replay(rankSlowdowns, null));
    }

    private double Replay(ReadOnlySpan<double> slowdowns, ImmutableArray<TimelineSpan>.Builder? spans)
    {
        Array.Fill(forwardEnd, double.NaN);
        Array.Fill(backwardEnd, double.NaN);
        Array.Clear(position);
        Array.Clear(free);
        Array.Clear(busy);
        var total = 2 * microBatches * chunks;
        var count = 0;
        void Wake(int rank)
        {
            if (!queued[rank])
            {
                waiting[count++] = rank;
                queued[rank] = true;
            }
        }

        for (var rank = pipeline - 1; rank >= 0; rank--)
        {
            Wake(rank);
        }

        while (count > 0)
        {
            var rank = waiting[--count];
            queued[rank] = false;
            var work = stages.Ranks[rank];
            var slowdown = slowdowns.IsEmpty ? 1 : slowdowns[rank];
            while (position[rank] < total)
            {
                var pass = PipelineSchedule.At(position[rank], warmUp[rank], pipeline, microBatches, chunks);
                var ready = Ready(rank, pass);
                if (double.IsNaN(ready))
                {
                    break;
                }

                var start = Math.Max(free[rank], ready);
                var duration = (pass.Backward ? work.Backward : work.Forward).Seconds / chunks * slowdown;
                var end = start + duration;
                (pass.Backward ? backwardEnd : forwardEnd)[Slot(rank, pass.Chunk, pass.MicroBatch)] = end;
                busy[rank] += duration;
                spans?.Add(new TimelineSpan(rank, pass, Duration.FromSeconds(start), Duration.FromSeconds(end)));
                var consumer = Consumer(rank, pass);
                var sends = consumer >= 0 && consumer != rank;
                free[rank] = end + (sends && !stages.SendsOverlap ? send : 0);
                position[rank]++;
                if (sends)
                {
                    Wake(consumer);
                }
            }
        }

        if (position.Any(done => done < total))
        {
            throw new InvalidOperationException("the pipeline schedule deadlocked: a rank waits for a pass that never runs");
        }

        return free.Max();
    }

    private static bool IsTime(double seconds) => seconds >= 0 && double.IsFinite(seconds);

    private int Slot(int rank, int chunk, int microBatch) => (((rank * chunks) + chunk) * microBatches) + microBatch;

    /// <summary>When <paramref name="pass"/>'s input is on <paramref name="rank"/>: NaN while the pass it needs has not run.</summary>
    private double Ready(int rank, PipelinePass pass)
    {
        var (chunk, microBatch) = (pass.Chunk, pass.MicroBatch);
        if (!pass.Backward)
        {
            return rank > 0 ? forwardEnd[Slot(rank - 1, chunk, microBatch)] + send
                : chunk > 0 ? forwardEnd[Slot(pipeline - 1, chunk - 1, microBatch)] + send
                : 0;
        }

        return rank < pipeline - 1 ? backwardEnd[Slot(rank + 1, chunk, microBatch)] + send
            : chunk < chunks - 1 ? backwardEnd[Slot(0, chunk + 1, microBatch)] + send
            : forwardEnd[Slot(rank, chunk, microBatch)];
    }

    /// <summary>The rank that needs <paramref name="pass"/>'s output next; -1 for none (the first chunk's backward on the first rank).</summary>
    private int Consumer(int rank, PipelinePass pass) => pass.Backward
        ? (rank > 0 ? rank - 1 : pass.Chunk > 0 ? pipeline - 1 : -1)
        : (rank < pipeline - 1 ? rank + 1 : pass.Chunk < chunks - 1 ? 0 : rank);
}
