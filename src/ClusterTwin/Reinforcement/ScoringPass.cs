using ClusterTwin.Engines;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// A forward pass over a step's whole batch on the trainer's layout, without the backward pass: how the policy's
/// log-probabilities and the reference model's are scored before the update.
/// </summary>
public static class ScoringPass
{
    /// <summary>
    /// The time of <paramref name="microBatches"/> micro-batches through the pipeline of <paramref name="stages"/>, forward
    /// only: the first micro-batch crosses every rank and the sends between them, each later one adds the slowest
    /// rank's forward pass (a forward-only pipeline has no backward pass to interleave and no bubble in its steady state).
    /// The chips' power limit stretches it as it stretches the training step.
    /// </summary>
    public static Duration Time(PipelineStages stages, long microBatches)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentOutOfRangeException.ThrowIfLessThan(microBatches, 1);
        var slowest = Duration.Zero;
        var through = Duration.Zero;
        foreach (var rank in stages.Ranks)
        {
            slowest = Duration.Max(slowest, rank.Forward);
            through += rank.Forward;
        }

        return (through + (slowest * (microBatches - 1)) + (stages.Send * (stages.Pipeline - 1))) * stages.PowerStretch;
    }
}
