using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Reliability;

/// <summary>
/// The catalogue's reliability figures (<c>catalog/reliability/</c>): each chip family's chip-time between job
/// interruptions, measured on a published run or carried over, and the restart and checkpoint figures every run takes
/// unless its scenario names its own.
/// </summary>
public sealed record ReliabilityCatalog
{
    /// <summary>The family key of the figure a family without its own takes.</summary>
    public const string DefaultFamily = "default";

    /// <summary>Chip-time between interruptions by chip family, with a <see cref="DefaultFamily"/> entry.</summary>
    public required ImmutableSortedDictionary<string, Figure<Duration>> ChipTimeBetweenInterruptions { get; init; }

    /// <summary>The time from an interruption to training again.</summary>
    public required Figure<Duration> Restart { get; init; }

    /// <summary>The rate each chip's share of a checkpoint is copied out while training waits.</summary>
    public required Figure<Bandwidth> CheckpointCopyPerChip { get; init; }

    /// <summary>The rate each chip's share is saved to storage behind training.</summary>
    public required Figure<Bandwidth> CheckpointSavePerChip { get; init; }

    /// <summary>The share of interruptions that take a server out of the job, for runs that name their spare servers.</summary>
    public Figure<double>? ReplacementShare { get; init; }

    /// <summary>The settings a run on a chip of <paramref name="family"/> takes: its family's interruption figure, or the default one.</summary>
    public ResilienceSettings SettingsFor(string family) => new()
    {
        ChipTimeBetweenInterruptions = ChipTimeBetweenInterruptions.TryGetValue(family, out var own) ? own : ChipTimeBetweenInterruptions[DefaultFamily],
        Restart = Restart,
        CheckpointCopyPerChip = CheckpointCopyPerChip,
        CheckpointSavePerChip = CheckpointSavePerChip,
    };
}
