using ClusterTwin.Parallelism;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.EventLevel;

// The replay itself: each rank runs what its inputs allow, and wakes the ranks its outputs feed.
public sealed partial class PipelineTimeline
{
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
}
