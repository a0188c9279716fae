using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.Mixed;

/// <summary>One kind of chip's part of a mixed pipeline: its stages, their layers, time, memory, energy and cost.</summary>
/// <param name="System">The system the chips are in.</param>
/// <param name="Chip">The chip.</param>
/// <param name="Framework">The framework they run.</param>
/// <param name="Chips">How many.</param>
/// <param name="FirstStage">The first of their pipeline stages (0 for the first kind).</param>
/// <param name="Layers">Layers on each of their stages, in pipeline order.</param>
/// <param name="SlowestStage">The slowest of their stages' time for one micro-batch, forward and backward.</param>
/// <param name="Memory">The most loaded of their stages' memory per chip.</param>
/// <param name="MemoryCapacity">One chip's memory.</param>
/// <param name="AfterPipeline">What their stages spend once the last backward pass is done: the exposed gradient reduction and the optimizer step.</param>
/// <param name="PeakRatePerChip">A chip's peak rate in the job's precision.</param>
/// <param name="WorkShare">Their share of the model's work: their layers and ends against the whole model's.</param>
/// <param name="Energy">Their energy over the step; null where their system's power figures are missing.</param>
/// <param name="Cost">Their cost over the step; null where a price is missing.</param>
public sealed record MixedPipelinePool(string System, string Chip, string Framework, long Chips, int FirstStage, ImmutableArray<int> Layers, Duration SlowestStage,
    MemoryBreakdown Memory, Bytes MemoryCapacity, Duration AfterPipeline, FlopRate PeakRatePerChip, double WorkShare, StepEnergy? Energy, StepCost? Cost)
{
    /// <summary>Their pipeline stages.</summary>
    public int Stages => Layers.Length;

    /// <summary>Whether their most loaded chip's memory fits.</summary>
    public bool Fits => Memory.Total <= MemoryCapacity;
}

/// <summary>
/// A training step whose pipeline runs on two kinds of chip: each kind's stages, the step replayed pass by pass over
/// them, and its throughput, energy and cost.
/// </summary>
public sealed record MixedPipelineResult
{
    /// <summary>The scenario's name.</summary>
    public required string Scenario { get; init; }

    /// <summary>Whether the layout can run; otherwise <see cref="Problems"/> says why.</summary>
    public required bool Valid { get; init; }

    /// <summary>What stops the layout, each naming the kind of chip it concerns.</summary>
    public ImmutableArray<string> Problems { get; init; } = [];

    /// <summary>What to know about each kind's layout, as <c>simulate</c> warns.</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>The first stages' chips, then the rest's.</summary>
    public ImmutableArray<MixedPipelinePool> Pools { get; init; } = [];

    /// <summary>Whether the engine chose the layers per stage (balancing the two kinds), not the scenario.</summary>
    public bool LayersBalanced { get; init; }

    /// <summary>The step replayed pass by pass over every stage, both kinds together.</summary>
    public StepTimeline? Timeline { get; init; }

    /// <summary>The scenario's stragglers drawn over the step, both kinds' stages alike; null where it names none.</summary>
    public StragglerDraws? Stragglers { get; init; }

    /// <summary>The factor the power limit stretches the step by: the larger of the two kinds' (1 where both stay within it).</summary>
    public double PowerStretch => Timeline?.Stages.PowerStretch ?? 1;

    /// <summary>The step's time: the replay, stretched by the power limit.</summary>
    public Duration StepTime => Timeline?.StepTime ?? Duration.Zero;

    /// <summary>Tokens per step.</summary>
    public double TokensPerStep { get; init; }

    /// <summary>The model's FLOPs per step (6 N per token plus attention).</summary>
    public Flops ModelFlopsPerStep { get; init; }

    /// <summary>Chips of both kinds.</summary>
    public long Chips => Pools.Sum(pool => pool.Chips);

    /// <summary>Tokens per second.</summary>
    public double TokensPerSecond => StepTime.Seconds > 0 ? TokensPerStep / StepTime.Seconds : 0;

    /// <summary>Model FLOPs utilization against both kinds' peak rates together.</summary>
    public double ModelFlopsUtilization => StepTime.Seconds > 0
        ? ModelFlopsPerStep.Operations / (StepTime.Seconds * Pools.Sum(pool => pool.Chips * pool.PeakRatePerChip.OperationsPerSecond))
        : 0;

    /// <summary>Both kinds' facility energy per step; null where either's is missing.</summary>
    public Energy? FacilityEnergyPerStep => Pools.All(pool => pool.Energy is not null) ? Pools.Aggregate(Energy.Zero, (sum, pool) => sum + pool.Energy!.FacilityPerStep) : null;

    /// <summary>Both kinds' cost per step; null where either's is missing.</summary>
    public Money? CostPerStep => Pools.All(pool => pool.Cost is not null) ? Pools.Aggregate(Money.Zero, (sum, pool) => sum + pool.Cost!.PerStep) : null;

    /// <summary>Both kinds' facility energy per token; null where either's is missing.</summary>
    public Energy? FacilityEnergyPerToken => FacilityEnergyPerStep / TokensPerStep;

    /// <summary>Both kinds' cost per million tokens; null where either's price is missing.</summary>
    public Money? CostPerMillionTokens => CostPerStep * (1e6 / TokensPerStep);
}
