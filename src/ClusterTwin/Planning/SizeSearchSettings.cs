using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Planning;

/// <summary>What a size search ranks the clusters that meet the deadline by.</summary>
public enum SizeObjective
{
    /// <summary>The cost of the whole run at each system's price (a cluster the catalogue cannot price ranks by its chips).</summary>
    Cost,

    /// <summary>The fewest chips.</summary>
    Chips,
}

/// <summary>Which time to train must meet the deadline.</summary>
public enum DeadlineBasis
{
    /// <summary>The prediction.</summary>
    Prediction,

    /// <summary>The slow end of the prediction's band (its P90 step time): a deadline met nine times in ten.</summary>
    SlowEnd,
}

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

/// <summary>One kind of cluster to size: the job on one system of it (its fabric, framework, calibration and price) and the plan fields pinned.</summary>
/// <param name="Template">The scenario on one system; the search replaces its system count, and its plan by each size's best layout.</param>
/// <param name="Pins">The plan fields the search file fixes, for every size.</param>
public sealed record SizeCandidate(Scenario Template, PlanPins Pins);
