using ClusterTwin.Units;

namespace ClusterTwin.Planning;

/// <summary>What a size search looks for, shared by every kind of cluster it sizes.</summary>
public sealed record SizeSearchSettings
{
    /// <summary>
    /// Sizes tried after the first that meets the deadline, where the objective is cost: a larger cluster can train for
    /// less where the smaller one needs recompute or a deep pipeline to fit (two sizes: up to 2.25 times the chips).
    /// </summary>
    public const int SizesPastDeadline = 2;

    /// <summary>The wall time the whole run must take at most.</summary>
    public required Duration Deadline { get; init; }

    /// <summary>What ranks the clusters that meet the deadline.</summary>
    public SizeObjective Objective { get; init; } = SizeObjective.Cost;

    /// <summary>Which time to train must meet the deadline.</summary>
    public DeadlineBasis DeadlineAt { get; init; } = DeadlineBasis.Prediction;

    /// <summary>The most chips a cluster may have.</summary>
    public long MaximumChips { get; init; } = 1_000_000;

    /// <summary>The share of each chip's memory a layout leaves free (<see cref="PlanSearch.Run"/>).</summary>
    public double MemoryHeadroom { get; init; }
}
