
namespace ClusterTwin.Engines.EventLevel;

// Where each pass's input comes from and where its output goes, under each kind of order.
public sealed partial class PipelineTimeline
{
    /// <summary>The pass at <paramref name="at"/> in <paramref name="rank"/>'s order: stored, or under 1F1B worked out.</summary>
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
    /// replay's hot path, written out: <see cref="InputOf"/> names the same input for a kept replay's critical path, and
    /// reading the time through it made a replay 1.6 times slower (measured). CriticalPathTests checks the two agree.
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
}
