using ClusterTwin.Engines;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// A forward pass over a step's whole batch on the trainer's layout, without the backward pass: how the policy's
/// log-probabilities, the reference model's and a critic's values are scored before the update.
/// </summary>
public static class ScoringPass
{
    /// <summary>
    /// The time of <paramref name="microBatches"/> micro-batches through the pipeline of <paramref name="stages"/>, forward
    /// only: the first micro-batch crosses every chunk and the sends between them, each later one adds the slowest
    /// rank's forward work per micro-batch (a forward-only pipeline has no backward pass to interleave and no bubble in
    /// its steady state). Under DualPipe a rank runs its stage for half the micro-batches and its mirror for the other
    /// half. The chips' power limit stretches it as it stretches the training step.
    /// </summary>
    public static Duration Time(PipelineStages stages, long microBatches)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatches, 1);
        var pipeline = stages.Pipeline;
        var slowest = Duration.Zero;
        var through = Duration.Zero;
        for (var rank = 0; rank < pipeline; rank++)
        {
            var forward = stages.Ranks[rank].Forward;
            through += forward;
            slowest = Duration.Max(slowest, stages.Schedule == PipelineScheduleKind.DualPipe ? (forward + stages.Ranks[pipeline - 1 - rank].Forward) / 2 : forward);
        }

        var sends = ((long)pipeline * stages.VirtualStages) - 1;
        return (through + (slowest * (microBatches - 1)) + (stages.Send * sends)) * stages.PowerStretch;
    }
}
