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
public sealed class PipelineTimeline
{
    /// <summary>The most passes (twice the micro-batches, times the chunks, times the ranks under 1F1B) a step may replay.</summary>
    public const int MostPasses = 1 << 20;

    private readonly PipelineStages stages;
    private readonly int pipeline;
    private readonly int chunks;
    private readonly int microBatches;
    private readonly double send;
    private readonly PipelineScheduleKind schedule;
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

    /// <summary>Prepares replays of <paramref name="stages"/>.</summary>
    /// <exception cref="ArgumentException">The step has more than <see cref="MostPasses"/> passes, or its schedule does not hold.</exception>
    public PipelineTimeline(PipelineStages stages)
    {
        ArgumentNullException.ThrowIfNull(stages);
        (this.stages, pipeline, send, schedule) = (stages, stages.Pipeline, stages.Send.Seconds, stages.Schedule);
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
        (chunks, microBatches) = schedule == PipelineScheduleKind.DualPipe ? (2, stages.MicroBatches / 2) : (stages.VirtualStages, stages.MicroBatches);
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
        var pipelineTime = timeline.Replay(ReadOnlySpan<double>.Empty, recording);
        var spans = recording.Spans.MoveToImmutable();
        return new StepTimeline(stages, spans, Duration.FromSeconds(pipelineTime), [.. timeline.busy.Select(Duration.FromSeconds)])
        {
            CriticalSpans = CriticalPath.Walk(spans, recording.Cause),
        };
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

    private double Replay(ReadOnlySpan<double> slowdowns, Recording? recording)
    {
        Array.Fill(forwardEnd, double.NaN);
        Array.Fill(backwardEnd, double.NaN);
        Array.Clear(position);
        Array.Clear(free);
        Array.Clear(busy);
        var count = 0;
        void Wake(int rank)
        {
            if (!queued[rank])
            {
                waiting[count++] = rank;
                queued[rank] = true;
            }
        }

        // Wakes the rank that needs the pass's output, where that is another rank; 1 for the send, otherwise 0.
        int WakeConsumer(int rank, PipelinePass pass)
        {
            var consumer = Consumer(rank, pass);
            if (consumer < 0 || consumer == rank)
            {
                return 0;
            }

            Wake(consumer);
            return 1;
        }

        for (var rank = pipeline - 1; rank >= 0; rank--)
        {
            Wake(rank);
        }

        while (count > 0)
        {
            var rank = waiting[--count];
            queued[rank] = false;
            var slowdown = slowdowns.IsEmpty ? 1 : slowdowns[rank];
            while (position[rank] < total[rank])
            {
                var pass = PassAt(rank, position[rank]);
                var ready = Ready(rank, pass);
                // A paired forward pass runs with the backward pass after it: both wait for both inputs.
                var partner = pass.PairedWithNext ? PassAt(rank, position[rank] + 1) : default;
                if (pass.PairedWithNext)
                {
                    ready = Math.Max(ready, Ready(rank, partner));
                }

                if (double.IsNaN(ready))
                {
                    break;
                }

                var start = Math.Max(free[rank], ready);
                if (recording is not null)
                {
                    // The pass waited for its rank, or for the later of its inputs (its partner's too, where paired).
                    var cause = ready > free[rank] ? recording.SpanOf(InputOf(rank, pass)) : recording.LastSpan[rank];
                    if (ready > free[rank] && pass.PairedWithNext && Ready(rank, partner) > Ready(rank, pass))
                    {
                        cause = recording.SpanOf(InputOf(rank, partner));
                    }

                    recording.Cause.Add(cause);
                }

                var end = Run(rank, pass, start, slowdown, recording);
                var sends = 0;
                if (pass.PairedWithNext)
                {
                    recording?.Cause.Add(recording.Spans.Count - 1);
                    end = Run(rank, partner, end, slowdown, recording);
                    // The forward pass's output leaves with the backward's.
                    forwardEnd[Slot(rank, pass.Chunk, pass.MicroBatch)] = end;
                    if (recording is not null)
                    {
                        recording.ForwardSpan[Slot(rank, pass.Chunk, pass.MicroBatch)] = recording.Spans.Count - 1;
                    }

                    sends += WakeConsumer(rank, partner);
                    position[rank]++;
                }

                sends += WakeConsumer(rank, pass);
                free[rank] = end + (stages.SendsOverlap ? 0 : sends * send);
                position[rank]++;
            }
        }

        if (position.AsSpan().SequenceCompareTo(total) != 0)
        {
            throw new InvalidOperationException("the pipeline schedule deadlocked: a rank waits for a pass that never runs");
        }

        return free.Max();
    }

    /// <summary>Runs <paramref name="pass"/> on <paramref name="rank"/> from <paramref name="start"/>: records its end and its span, and returns its end.</summary>
    private double Run(int rank, PipelinePass pass, double start, double slowdown, Recording? recording)
    {
        var work = stages.Ranks[Stage(rank, pass.Chunk)];
        var seconds = pass.Kind switch
        {
            PassKind.Forward => work.Forward,
            PassKind.InputGradient => work.InputGradient,
            PassKind.WeightGradient => work.WeightGradient,
            _ => work.Backward,
        };
        // Under 1F1B each chunk is an equal share of the rank's work; DualPipe's directions each run a whole stage.
        var duration = seconds.Seconds / (schedule == PipelineScheduleKind.DualPipe ? 1 : chunks) * slowdown;
        var end = start + duration;
        var slot = Slot(rank, pass.Chunk, pass.MicroBatch);
        if (pass.Kind == PassKind.Forward)
        {
            forwardEnd[slot] = end;
        }
        else if (pass.Backward)
        {
            backwardEnd[slot] = end;
        }

        busy[rank] += duration;
        if (recording is not null)
        {
            var index = recording.Spans.Count;
            recording.Spans.Add(new TimelineSpan(rank, pass, Duration.FromSeconds(start), Duration.FromSeconds(end)));
            if (pass.Kind == PassKind.Forward)
            {
                recording.ForwardSpan[slot] = index;
            }
            else if (pass.Backward)
            {
                recording.BackwardSpan[slot] = index;
            }

            recording.LastSpan[rank] = index;
        }

        return end;
    }

    private PipelinePass PassAt(int rank, int at) => orders is { } order ? order[rank][at] : PipelineSchedule.At(at, warmUp[rank], pipeline, microBatches, chunks);

    private static bool IsTime(double seconds) => seconds >= 0 && double.IsFinite(seconds);

    private int Slot(int rank, int chunk, int microBatch) => (((rank * chunks) + chunk) * microBatches) + microBatch;

    /// <summary>The stage <paramref name="rank"/> runs for <paramref name="chunk"/>: its own, or under DualPipe for the direction from the last rank its mirror's.</summary>
    private int Stage(int rank, int chunk) => schedule == PipelineScheduleKind.DualPipe && chunk == 1 ? pipeline - 1 - rank : rank;

    /// <summary>
    /// The rank that runs the next stage of <paramref name="chunk"/>'s path after <paramref name="rank"/>
    /// (<paramref name="step"/> 1) or before it (-1), or -1 past either end; under 1F1B a chunk's path goes on into the
    /// next chunk on the first rank (and back from the previous one's last rank), which <see cref="Ready"/> and
    /// <see cref="Consumer"/> handle.
    /// </summary>
    private int Neighbour(int rank, int chunk, int step)
    {
        var next = schedule == PipelineScheduleKind.DualPipe && chunk == 1 ? rank - step : rank + step;
        return next >= 0 && next < pipeline ? next : -1;
    }

    /// <summary>When <paramref name="pass"/>'s input is on <paramref name="rank"/>: NaN while the pass it needs has not run.</summary>
    private double Ready(int rank, PipelinePass pass)
    {
        var input = InputOf(rank, pass);
        return input.Slot < 0 ? 0 : (input.Forward ? forwardEnd : backwardEnd)[input.Slot] + (input.Sent ? send : 0);
    }

    /// <summary>
    /// The pass whose output <paramref name="pass"/> on <paramref name="rank"/> needs: a forward pass's (otherwise a
    /// backward pass's or an input gradient's) at <see cref="Input.Slot"/>, arriving by a send from another rank where
    /// <see cref="Input.Sent"/>; slot -1 for none (the first stage's forward pass).
    /// </summary>
    private Input InputOf(int rank, PipelinePass pass)
    {
        var (chunk, microBatch) = (pass.Chunk, pass.MicroBatch);
        if (pass.Kind == PassKind.WeightGradient)
        {
            return new Input(false, Slot(rank, chunk, microBatch), false);
        }

        if (schedule == PipelineScheduleKind.DualPipe)
        {
            var (before, after) = (Neighbour(rank, chunk, -1), Neighbour(rank, chunk, 1));
            return !pass.Backward ? (before >= 0 ? new Input(true, Slot(before, chunk, microBatch), true) : Input.None)
                : after >= 0 ? new Input(false, Slot(after, chunk, microBatch), true)
                : new Input(true, Slot(rank, chunk, microBatch), false);
        }

        if (!pass.Backward)
        {
            return rank > 0 ? new Input(true, Slot(rank - 1, chunk, microBatch), true)
                : chunk > 0 ? new Input(true, Slot(pipeline - 1, chunk - 1, microBatch), true)
                : Input.None;
        }

        return rank < pipeline - 1 ? new Input(false, Slot(rank + 1, chunk, microBatch), true)
            : chunk < chunks - 1 ? new Input(false, Slot(0, chunk + 1, microBatch), true)
            : new Input(true, Slot(rank, chunk, microBatch), false);
    }

    /// <summary>The rank that needs <paramref name="pass"/>'s output next; -1 for none (a weight gradient, the first stage's backward pass).</summary>
    private int Consumer(int rank, PipelinePass pass)
    {
        if (pass.Kind == PassKind.WeightGradient)
        {
            return -1;
        }

        if (schedule == PipelineScheduleKind.DualPipe)
        {
            return pass.Backward ? Neighbour(rank, pass.Chunk, -1) : Neighbour(rank, pass.Chunk, 1) is var next && next >= 0 ? next : rank;
        }

        return pass.Backward
            ? (rank > 0 ? rank - 1 : pass.Chunk > 0 ? pipeline - 1 : -1)
            : (rank < pipeline - 1 ? rank + 1 : pass.Chunk < chunks - 1 ? 0 : rank);
    }

    /// <summary>Where a pass's input comes from: a forward (or else a backward) pass's output at a slot, sent from another rank or not.</summary>
    private readonly record struct Input(bool Forward, int Slot, bool Sent)
    {
        public static Input None => new(true, -1, false);
    }

    /// <summary>
    /// What a kept replay records beside each span: the spans that released each pass's output, each rank's last span,
    /// and for each span the one it waited for (its input's, or its rank's previous), to find the critical path.
    /// </summary>
    private sealed class Recording(ImmutableArray<TimelineSpan>.Builder spans, int slots, int pipeline)
    {
        public ImmutableArray<TimelineSpan>.Builder Spans => spans;

        public int[] ForwardSpan { get; } = new int[slots];

        public int[] BackwardSpan { get; } = new int[slots];

        public int[] LastSpan { get; } = Enumerable.Repeat(-1, pipeline).ToArray();

        public List<int> Cause { get; } = new(spans.Capacity);

        /// <summary>The span that released <paramref name="input"/>'s output; -1 for none.</summary>
        public int SpanOf(Input input) => input.Slot < 0 ? -1 : (input.Forward ? ForwardSpan : BackwardSpan)[input.Slot];
    }
}
