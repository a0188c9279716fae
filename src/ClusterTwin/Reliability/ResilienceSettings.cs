using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Reliability;

/// <summary>
/// What a long run loses to interruptions: how often a chip's share of the cluster stops the job, how long the job
/// takes to come back, and how fast it saves its state. The catalogue's figures (<c>catalog/reliability/</c>) unless the
/// scenario's <c>resilience</c> block names its own.
/// </summary>
public sealed record ResilienceSettings
{
    /// <summary>
    /// Chip-time between job interruptions: a cluster of <c>n</c> chips is interrupted every this divided by <c>n</c>.
    /// It counts every cause that stops a synchronous job (chips and their memory, hosts, network, software), per chip.
    /// </summary>
    public required Figure<Duration> ChipTimeBetweenInterruptions { get; init; }

    /// <summary>From an interruption to the first step again: detection, rescheduling, start-up and reading the last checkpoint.</summary>
    public required Figure<Duration> Restart { get; init; }

    /// <summary>
    /// The rate each chip's share of a checkpoint is copied out of its memory while training waits (an asynchronous
    /// save's staging copy to the host's memory).
    /// </summary>
    public required Figure<Bandwidth> CheckpointCopyPerChip { get; init; }

    /// <summary>
    /// The rate each chip's share is saved to storage behind training: until the save ends, an interruption loses the
    /// work back to the checkpoint before, and the next checkpoint cannot start.
    /// </summary>
    public required Figure<Bandwidth> CheckpointSavePerChip { get; init; }

    /// <summary>
    /// The whole cluster's rate of writing to storage, where it bounds the save: the save takes the longer of each
    /// chip's share at <see cref="CheckpointSavePerChip"/> and the whole checkpoint at this. Null: no bound.
    /// </summary>
    public Bandwidth? StorageWriteBandwidth { get; init; }

    /// <summary>The time between checkpoints; null takes Daly's optimum for the run's interruption rate.</summary>
    public Duration? CheckpointInterval { get; init; }

    /// <summary>The servers held in reserve, where the scenario names them; null: a spare is always there.</summary>
    public SpareServers? Spares { get; init; }

    /// <summary>How many runs the event-level simulation draws (<see cref="SimulatedRuns"/>); zero draws none.</summary>
    public int SimulatedRuns { get; init; } = Reliability.SimulatedRuns.DefaultRuns;

    /// <summary>The seed of the simulated runs' interruption stream.</summary>
    public int Seed { get; init; } = 1;
}
