using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Sweeps;

/// <summary>
/// One point of a sweep: its values and what its step gives, or why it has none. The figures are those of
/// <c>simulate</c>'s report for the point's scenario (at its best layout where the sweep searches).
/// </summary>
/// <param name="Point">The point's number.</param>
/// <param name="Values">Each varied field's path and value.</param>
public sealed record SweepRow(long Point, ImmutableArray<(string Path, string Value)> Values)
{
    /// <summary>Whether the point has a step; otherwise <see cref="Problems"/> says why.</summary>
    public bool Valid { get; init; }

    /// <summary>Why the point has no step: a value its field does not take, a plan that does not divide, no layout found.</summary>
    public ImmutableArray<string> Problems { get; init; } = [];

    /// <summary>Chips.</summary>
    public long Chips { get; init; }

    /// <summary>The layout, in <c>plan</c>'s words (the best found, where the sweep searches).</summary>
    public string? Plan { get; init; }

    /// <summary>The layout's degrees, for a narrow column (<see cref="Planning.PlanDescription.Degrees"/>).</summary>
    public string? Degrees { get; init; }

    /// <summary>The step's time.</summary>
    public Duration StepTime { get; init; }

    /// <summary>Tokens per second.</summary>
    public double TokensPerSecond { get; init; }

    /// <summary>Model FLOPs utilization.</summary>
    public double ModelFlopsUtilization { get; init; }

    /// <summary>The most loaded chip's memory.</summary>
    public Bytes MemoryPerChip { get; init; }

    /// <summary>Whether it fits in the chip's memory.</summary>
    public bool Fits { get; init; }

    /// <summary>IT energy per token, where the power figures are known.</summary>
    public Energy? EnergyPerToken { get; init; }

    /// <summary>Cost per million tokens, where the prices are known.</summary>
    public Money? CostPerMillionTokens { get; init; }

    /// <summary>The fault-free time to train, where the scenario names its tokens.</summary>
    public Duration? TimeToTrain { get; init; }

    /// <summary>A serving point's figures (<see cref="TokensPerSecond"/> and the training figures are then unset).</summary>
    public ServingFigures? Serving { get; init; }

    /// <summary>An RL post-training point's figures (the training figures are then unset).</summary>
    public ReinforcementFigures? Reinforcement { get; init; }

    /// <summary>A shared cluster's figures (the training figures are then unset).</summary>
    public SharedFigures? Shared { get; init; }
}

/// <summary>What a serving point's run gives, as <c>serve</c> reports it.</summary>
/// <param name="OutputTokensPerSecond">Output tokens per second over the run.</param>
/// <param name="Goodput">Requests per second completed within the objectives.</param>
/// <param name="Attainment">The share of requests within the objectives.</param>
/// <param name="TimeToFirstToken">Time to the first token: P50 and P99.</param>
/// <param name="TimePerOutputToken">Time per output token after the first: P50 and P99.</param>
/// <param name="EnergyPerOutputToken">IT energy per output token, where the power figures are known.</param>
/// <param name="CostPerMillionOutputTokens">Cost per million output tokens, where the prices are known.</param>
public sealed record ServingFigures(double OutputTokensPerSecond, double Goodput, double Attainment, (Duration P50, Duration P99) TimeToFirstToken,
    (Duration P50, Duration P99) TimePerOutputToken, Energy? EnergyPerOutputToken, Money? CostPerMillionOutputTokens);

/// <summary>What an RL post-training point's step gives, as <c>rl</c> reports it.</summary>
/// <param name="StepTime">The step.</param>
/// <param name="GenerationTime">The rollout.</param>
/// <param name="TrainerTime">The scoring passes and the optimizer steps.</param>
/// <param name="WeightUpdateTime">The weights to the rollout engine.</param>
/// <param name="OffloadTime">Colocated: the trainer's state to the host and back (with the parts above, the step on-policy).</param>
/// <param name="GenerationShare">The rollout's share of the step.</param>
/// <param name="TrainedTokensPerSecondPerChip">Prompt and response tokens trained per second, per chip the run holds.</param>
/// <param name="EnergyPerTrainedToken">IT energy per trained token, where every pool's power figures are known.</param>
/// <param name="CostPerMillionTrainedTokens">The cost of a million trained tokens on every chip the run holds, where the prices are known.</param>
public sealed record ReinforcementFigures(Duration StepTime, Duration GenerationTime, Duration TrainerTime, Duration WeightUpdateTime, Duration OffloadTime, double GenerationShare,
    double TrainedTokensPerSecondPerChip, Energy? EnergyPerTrainedToken, Money? CostPerMillionTrainedTokens);

/// <summary>What a shared cluster's point gives, as <c>share</c> reports it.</summary>
/// <param name="ChipWeightedSlowdown">What sharing adds to the jobs' steps, weighted by their chips.</param>
/// <param name="MostSlowedJob">The job sharing slows most; <c>none</c> where it slows none.</param>
/// <param name="MostSlowdown">What sharing adds to that job's step, with independent phases.</param>
/// <param name="MostAlignedSlowdown">The most any job's step grows with every other job's traffic aligned with its own.</param>
/// <param name="TokensPerSecond">Every job's training tokens per second beside the others, together.</param>
/// <param name="Converged">Whether the jobs' steps settled.</param>
public sealed record SharedFigures(double ChipWeightedSlowdown, string MostSlowedJob, double MostSlowdown, double MostAlignedSlowdown, double TokensPerSecond, bool Converged);
