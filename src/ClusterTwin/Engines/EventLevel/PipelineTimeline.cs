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

        return Duration.FromSeconds(Replay<Unkept>(rankSlowdowns, null));
    }

    /// <summary>
    /// The replay; <typeparamref name="TKeeping"/> says whether it records its spans and their causes in
    /// <paramref name="recording"/>, a constant for each instantiation, so that the straggler draws' replays pay nothing for it.
    /// </summary>
    private double Replay<TKeeping>(ReadOnlySpan<double> slowdowns, Recording? recording)
        where TKeeping : struct, IKeeping => schedule switch
        {
            PipelineScheduleKind.ZeroBubble => Replay<TKeeping, StoredOrder>(slowdowns, recording),
            PipelineScheduleKind.DualPipe => Replay<TKeeping, MirroredOrder>(slowdowns, recording),
            _ => Replay<TKeeping, WorkedOutOrder>(slowdowns, recording),
        };

    /// <summary>The replay under one kind of order, <typeparamref name="TOrder"/>: its checks are constants the JIT folds.</summary>
    private double Replay<TKeeping, TOrder>(ReadOnlySpan<double> slowdowns, Recording? recording)
        where TKeeping : struct, IKeeping
        where TOrder : struct, IOrder
    {
        Array.Fill(forwardEnd, double.NaN);
        Array.Fill(backwardEnd, double.NaN);
        Array.Clear(position);
        Array.Clear(free);
        Array.Clear(busy);
        waitingCount = 0;
        for (var rank = pipeline - 1; rank >= 0; rank--)
        {
            Wake(rank);
        }

        while (waitingCount > 0)
        {
            var rank = waiting[--waitingCount];
            queued[rank] = false;
            var slowdown = slowdowns.IsEmpty ? 1 : slowdowns[rank];
            while (position[rank] < total[rank])
            {
                var pass = PassAt<TOrder>(rank, position[rank]);
                if (pass.PairedWithNext)
                {
                    if (!RunPair<TKeeping, TOrder>(rank, pass, slowdown, recording))
                    {
                        break;
                    }

                    continue;
                }

                var ready = Ready<TOrder>(rank, pass);
                if (double.IsNaN(ready))
                {
                    break;
                }

                var start = Math.Max(free[rank], ready);
                if (TKeeping.Keeps)
                {
                    // The pass waited for its rank, or for its input.
                    recording!.Cause.Add(ready > free[rank] ? recording.SpanOf(InputOf<TOrder>(rank, pass)) : recording.LastSpan[rank]);
                }

                var end = Run<TKeeping, TOrder>(rank, pass, start, slowdown, recording);
                var consumer = Consumer<TOrder>(rank, pass);
                var sends = consumer >= 0 && consumer != rank;
                free[rank] = end + (sends && !sendsOverlap ? send : 0);
                position[rank]++;
                if (sends)
                {
                    Wake(consumer);
                }
            }
        }

        if (position.AsSpan().SequenceCompareTo(total) != 0)
        {
            throw new InvalidOperationException("the pipeline schedule deadlocked: a rank waits for a pass that never runs");
        }

        return free.Max();
    }

    /// <summary>
    /// Runs a paired forward <paramref name="pass"/> on <paramref name="rank"/> and the backward pass after it as one
    /// (DualPipe's F&amp;B): both start once both inputs are there, and the forward's output leaves with the backward's.
    /// False, having run nothing, while an input is missing.
    /// </summary>
    private bool RunPair<TKeeping, TOrder>(int rank, PipelinePass pass, double slowdown, Recording? recording)
        where TKeeping : struct, IKeeping
        where TOrder : struct, IOrder
    {
        var partner = PassAt<TOrder>(rank, position[rank] + 1);
        var (ready, partnerReady) = (Ready<TOrder>(rank, pass), Ready<TOrder>(rank, partner));
        if (double.IsNaN(ready) || double.IsNaN(partnerReady))
        {
            return false;
        }

        var start = Math.Max(free[rank], Math.Max(ready, partnerReady));
        if (TKeeping.Keeps)
        {
            // The pair waited for its rank, or for the later of its inputs.
            recording!.Cause.Add(Math.Max(ready, partnerReady) <= free[rank] ? recording.LastSpan[rank]
                : recording.SpanOf(InputOf<TOrder>(rank, partnerReady > ready ? partner : pass)));
        }

        var end = Run<TKeeping, TOrder>(rank, pass, start, slowdown, recording);
        if (TKeeping.Keeps)
        {
            recording!.Cause.Add(recording.Spans.Count - 1);
        }

        end = Run<TKeeping, TOrder>(rank, partner, end, slowdown, recording);
        forwardEnd[Slot(rank, pass.Chunk, pass.MicroBatch)] = end;
        if (TKeeping.Keeps)
        {
            recording!.ForwardSpan[Slot(rank, pass.Chunk, pass.MicroBatch)] = recording.Spans.Count - 1;
        }

        var sends = 0;
        foreach (var consumer in (ReadOnlySpan<int>)[Consumer<TOrder>(rank, pass), Consumer<TOrder>(rank, partner)])
        {
            if (consumer >= 0 && consumer != rank)
            {
                sends++;
                Wake(consumer);
            }
        }

        free[rank] = end + (sendsOverlap ? 0 : sends * send);
        position[rank] += 2;
        return true;
    }

    /// <summary>Queues <paramref name="rank"/> to run what it can, unless it is queued already.</summary>
    private void Wake(int rank)
    {
        if (!queued[rank])
        {
            waiting[waitingCount++] = rank;
            queued[rank] = true;
        }
    }

    /// <summary>Runs <paramref name="pass"/> on <paramref name="rank"/> from <paramref name="start"/>: records its end and its span, and returns its end.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private double Run<TKeeping, TOrder>(int rank, PipelinePass pass, double start, double slowdown, Recording? recording)
        where TKeeping : struct, IKeeping
        where TOrder : struct, IOrder
    {
        var work = rankWork[TOrder.Mirrored ? Stage<TOrder>(rank, pass.Chunk) : rank];
        var seconds = !TOrder.Stored ? (pass.Kind == PassKind.Forward ? work.Forward : work.Backward) : pass.Kind switch
        {
            PassKind.Forward => work.Forward,
            PassKind.InputGradient => work.InputGradient,
            PassKind.WeightGradient => work.WeightGradient,
            _ => work.Backward,
        };
        var duration = seconds.Seconds / chunkShare * slowdown;
        var end = start + duration;
        var slot = Slot(rank, pass.Chunk, pass.MicroBatch);
        if (pass.Kind == PassKind.Forward)
        {
            forwardEnd[slot] = end;
        }
        else if (SendsBack<TOrder>(pass))
        {
            backwardEnd[slot] = end;
        }

        busy[rank] += duration;
        if (TKeeping.Keeps)
        {
            var index = recording!.Spans.Count;
            recording.Spans.Add(new TimelineSpan(rank, pass, Duration.FromSeconds(start), Duration.FromSeconds(end)));
            if (pass.Kind == PassKind.Forward)
            {
                recording.ForwardSpan[slot] = index;
            }
            else if (SendsBack<TOrder>(pass))
            {
                recording.BackwardSpan[slot] = index;
            }

            recording.LastSpan[rank] = index;
        }

        return end;
    }

    private PipelinePass PassAt<TOrder>(int rank, int at)
        where TOrder : struct, IOrder => TOrder.Stored ? orders![rank][at] : PipelineSchedule.At(at, warmUp[rank], pipeline, microBatches, chunks);

    private static bool IsTime(double seconds) => seconds >= 0 && double.IsFinite(seconds);

    private int Slot(int rank, int chunk, int microBatch) => (((rank * chunks) + chunk) * microBatches) + microBatch;

    /// <summary>The stage <paramref name="rank"/> runs for <paramref name="chunk"/>: its own, or under DualPipe for the direction from the last rank its mirror's.</summary>
    private int Stage<TOrder>(int rank, int chunk)
        where TOrder : struct, IOrder => TOrder.Mirrored && chunk == 1 ? pipeline - 1 - rank : rank;

    /// <summary>
    /// The rank that runs the next stage of <paramref name="chunk"/>'s path after <paramref name="rank"/>
    /// (<paramref name="step"/> 1) or before it (-1), or -1 past either end; under 1F1B a chunk's path goes on into the
    /// next chunk on the first rank (and back from the previous one's last rank), which <see cref="Ready"/> and
    /// <see cref="Consumer"/> handle.
    /// </summary>
    private int Neighbour<TOrder>(int rank, int chunk, int step)
        where TOrder : struct, IOrder
    {
        var next = TOrder.Mirrored && chunk == 1 ? rank - step : rank + step;
        return next >= 0 && next < pipeline ? next : -1;
    }

    /// <summary>
    /// Whether <paramref name="pass"/> sends a gradient back (<see cref="PipelinePass.Backward"/>): under 1F1B every pass
    /// but a forward one, one comparison.
    /// </summary>
    private static bool SendsBack<TOrder>(PipelinePass pass)
        where TOrder : struct, IOrder => TOrder.Stored ? pass.Backward : pass.Kind != PassKind.Forward;

    /// <summary>
    /// When <paramref name="pass"/>'s input is on <paramref name="rank"/>: NaN while the pass it needs has not run. The
    /// replay's hot path: <see cref="InputOf"/> names the same input, for a kept replay's critical path.
    /// </summary>
    private double Ready<TOrder>(int rank, PipelinePass pass)
        where TOrder : struct, IOrder
    {
        var (chunk, microBatch) = (pass.Chunk, pass.MicroBatch);
        if (TOrder.Stored && pass.Kind == PassKind.WeightGradient)
        {
            return backwardEnd[Slot(rank, chunk, microBatch)];
        }

        if (TOrder.Mirrored)
        {
            var (before, after) = (Neighbour<TOrder>(rank, chunk, -1), Neighbour<TOrder>(rank, chunk, 1));
            return !SendsBack<TOrder>(pass) ? (before >= 0 ? forwardEnd[Slot(before, chunk, microBatch)] + send : 0)
                : after >= 0 ? backwardEnd[Slot(after, chunk, microBatch)] + send
                : forwardEnd[Slot(rank, chunk, microBatch)];
        }

        if (!SendsBack<TOrder>(pass))
        {
            return rank > 0 ? forwardEnd[Slot(rank - 1, chunk, microBatch)] + send
                : chunk > 0 ? forwardEnd[Slot(pipeline - 1, chunk - 1, microBatch)] + send
                : 0;
        }

        return rank < pipeline - 1 ? backwardEnd[Slot(rank + 1, chunk, microBatch)] + send
            : chunk < chunks - 1 ? backwardEnd[Slot(0, chunk + 1, microBatch)] + send
            : forwardEnd[Slot(rank, chunk, microBatch)];
    }

    /// <summary>
    /// The pass whose output <paramref name="pass"/> on <paramref name="rank"/> needs: a forward pass's (otherwise a
    /// backward pass's or an input gradient's) at <see cref="Input.Slot"/>, arriving by a send from another rank where
    /// <see cref="Input.Sent"/>; slot -1 for none (the first stage's forward pass).
    /// </summary>
    private Input InputOf<TOrder>(int rank, PipelinePass pass)
        where TOrder : struct, IOrder
    {
        var (chunk, microBatch) = (pass.Chunk, pass.MicroBatch);
        if (TOrder.Stored && pass.Kind == PassKind.WeightGradient)
        {
            return new Input(false, Slot(rank, chunk, microBatch), false);
        }

        if (TOrder.Mirrored)
        {
            var (before, after) = (Neighbour<TOrder>(rank, chunk, -1), Neighbour<TOrder>(rank, chunk, 1));
            return !SendsBack<TOrder>(pass) ? (before >= 0 ? new Input(true, Slot(before, chunk, microBatch), true) : Input.None)
                : after >= 0 ? new Input(false, Slot(after, chunk, microBatch), true)
                : new Input(true, Slot(rank, chunk, microBatch), false);
        }

        if (!SendsBack<TOrder>(pass))
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
    private int Consumer<TOrder>(int rank, PipelinePass pass)
        where TOrder : struct, IOrder
    {
        if (TOrder.Stored && pass.Kind == PassKind.WeightGradient)
        {
            return -1;
        }

        if (TOrder.Mirrored)
        {
            return SendsBack<TOrder>(pass) ? Neighbour<TOrder>(rank, pass.Chunk, -1) : Neighbour<TOrder>(rank, pass.Chunk, 1) is var next && next >= 0 ? next : rank;
        }

        return SendsBack<TOrder>(pass)
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

    /// <summary>Whether a replay keeps its spans: a constant per type, so that the JIT drops the keeping where it is false.</summary>
    private interface IKeeping
    {
        static abstract bool Keeps { get; }
    }

    /// <summary>A replay that keeps every span and its cause (<see cref="Of"/>).</summary>
    private readonly struct Kept : IKeeping
    {
        public static bool Keeps => true;
    }

    /// <summary>A replay that keeps nothing (<see cref="Pipeline"/>, the straggler draws').</summary>
    private readonly struct Unkept : IKeeping
    {
        public static bool Keeps => false;
    }

    /// <summary>What a replay's order is: worked out as it runs (1F1B), or stored, and mirrored (DualPipe's two directions): constants per type.</summary>
    private interface IOrder
    {
        static abstract bool Stored { get; }

        static abstract bool Mirrored { get; }
    }

    /// <summary>1F1B's order, plain or interleaved: forward and whole backward passes, worked out from each rank's warm-up.</summary>
    private readonly struct WorkedOutOrder : IOrder
    {
        public static bool Stored => false;

        public static bool Mirrored => false;
    }

    /// <summary>Zero bubble's stored order.</summary>
    private readonly struct StoredOrder : IOrder
    {
        public static bool Stored => true;

        public static bool Mirrored => false;
    }

    /// <summary>DualPipe's stored order over its two directions.</summary>
    private readonly struct MirroredOrder : IOrder
    {
        public static bool Stored => true;

        public static bool Mirrored => true;
    }
}
