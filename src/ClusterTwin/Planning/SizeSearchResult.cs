using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Planning;

/// <summary>One cluster size a size search tried: its layout search, and what the best layout makes of the whole run.</summary>
/// <param name="Systems">Systems in the cluster.</param>
/// <param name="Chips">Chips in the cluster.</param>
/// <param name="Search">The layout search at this size (fastest first).</param>
public sealed record SizedCluster(int Systems, long Chips, PlanSearchResult Search)
{
    /// <summary>The fastest layout that fits, or null where none does (<see cref="PlanSearchResult.WhyNoLayout"/> says why).</summary>
    public RankedPlan? Best => Search.Plans.IsEmpty ? null : Search.Plans[0];

    /// <summary>Steps of the whole run.</summary>
    public double? Steps => Best?.Result.StepsToTrain;

    /// <summary>The run's interruptions, checkpoints and restarts, where the scenario has resilience settings.</summary>
    public Reliability.RunGoodput? Run => Best?.Result.Run;

    /// <summary>The predicted time to train with nothing ever failing.</summary>
    public Duration? FaultFreeTimeToTrain => Best?.Result.TimeToTrain;

    /// <summary>
    /// The predicted time to train: with its interruptions where the scenario has resilience settings (null where the
    /// run would not finish), else fault-free.
    /// </summary>
    public Duration? TimeToTrain => Run is { } run ? run.Expected : FaultFreeTimeToTrain;

    /// <summary>The time to train at the fast end of the band (P10 step time; with interruptions, the fewest).</summary>
    public Duration? TimeToTrainLow => Run is { } run ? run.ExpectedLow : Steps is { } steps ? Best!.Result.StepTimeLow * steps : null;

    /// <summary>The time to train at the slow end of the band (P90 step time; with interruptions, the most); null where that run would not finish.</summary>
    public Duration? TimeToTrainHigh => Run is { } run ? run.ExpectedHigh : Steps is { } steps ? Best!.Result.StepTimeHigh * steps : null;

    /// <summary>
    /// The cost of the whole run, where the catalogue prices the system: the chips are held, and paid for, for the
    /// whole wall time, interruptions included; null where the run would not finish.
    /// </summary>
    public Money? RunCost => Steps is { } steps && Best!.Result.Cost is { } cost ? Held(cost.PerStep, steps, Run) : null;

    /// <summary>The run's cost at the low end of its range (the price's low end, the band's fast end).</summary>
    public Money? RunCostLow => Steps is { } steps && Best!.Result.Cost is { } cost ? Held(cost.PerStepLow, steps, Run?.Fastest ?? Run) : null;

    /// <summary>The run's cost at the high end of its range; null where that run would not finish.</summary>
    public Money? RunCostHigh => Steps is { } steps && Best!.Result.Cost is { } cost ? Held(cost.PerStepHigh, steps, Run?.Slowest ?? Run) : null;

    /// <summary>
    /// The IT energy of the whole run, where the energy model covers the system; with interruptions, an upper bound
    /// (<see cref="Reliability.RunGoodput.EnergyOf"/>).
    /// </summary>
    public Energy? RunEnergy => Steps is { } steps && Best!.Result.Energy is { } energy ? (Run is { } run ? run.EnergyOf(energy.ItPerStep, steps) : energy.ItPerStep * steps) : null;

    private static Money? Held(Money perStep, double steps, Reliability.RunGoodput? run) => run is null ? perStep * steps : run.CostOf(perStep, steps);

    /// <summary>Whether the run ends within <paramref name="deadline"/>, at the time <paramref name="basis"/> names.</summary>
    public bool Meets(Duration deadline, DeadlineBasis basis) =>
        (basis == DeadlineBasis.SlowEnd ? TimeToTrainHigh : TimeToTrain) is { } time && time <= deadline;
}

/// <summary>What a size search found for one kind of cluster.</summary>
/// <param name="Candidate">The kind of cluster.</param>
/// <param name="Tried">The sizes whose layouts were searched, smallest first.</param>
/// <param name="Chosen">The size the objective picks among those that meet the deadline; null where none does.</param>
/// <param name="BelowPeakBound">
/// Sizes of the ladder not tried because even at the chip's peak rate they would miss the deadline (the model FLOPs
/// of the run over the deadline and the peak give the least chips; <see cref="SizeSearch.LeastChipsAtPeak"/>).
/// </param>
/// <param name="LeastChipsAtPeak">The chips that would train in time at the chip's peak rate, every FLOP useful.</param>
/// <param name="Why">Why no size was chosen; null where one was.</param>
public sealed record SizeOutcome(SizeCandidate Candidate, ImmutableArray<SizedCluster> Tried, SizedCluster? Chosen, int BelowPeakBound, double LeastChipsAtPeak, string? Why)
{
    /// <summary>Whether the search ranked <see cref="Chosen"/> by chips because the catalogue cannot price the system (the objective was cost).</summary>
    public bool Unpriced { get; init; }
}
