using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Parallelism;

namespace ClusterTwin.Planning;

/// <summary>One layout the search ranked, with its full prediction (band included).</summary>
/// <param name="Plan">The layout.</param>
/// <param name="Result">Its predicted step.</param>
public sealed record RankedPlan(ParallelPlan Plan, TrainingStepResult Result);

/// <summary>What a plan search found, and how much it looked at.</summary>
/// <param name="Plans">The best layouts, fastest first (ties broken by enumeration order, so the ranking is stable).</param>
/// <param name="Considered">Combinations of the searched dimensions.</param>
/// <param name="PrunedLayout">Combinations that are not layouts: degrees that do not divide the chips, the layers, the heads or the batch.</param>
/// <param name="PrunedMemory">Layouts that do not fit in the chip's memory.</param>
/// <param name="PrunedOther">Layouts the engine rejected for another reason (a precision the chip lacks, a fabric too small).</param>
/// <param name="Evaluated">Layouts simulated and ranked.</param>
/// <param name="Explanation">What bounds the best layout and what the runner-up traded; null when nothing was evaluated.</param>
/// <param name="Rejections">Why the engine rejected layouts, where it did (distinct reasons, first few).</param>
public sealed record PlanSearchResult(
    ImmutableArray<RankedPlan> Plans,
    long Considered,
    long PrunedLayout,
    long PrunedMemory,
    long PrunedOther,
    long Evaluated,
    PlanExplanation? Explanation,
    ImmutableArray<string> Rejections)
{
    /// <summary>What the ranking minimised.</summary>
    public PlanObjective Objective { get; init; } = PlanObjective.Time;

    /// <summary>The fastest layout pruned for memory alone, where it is faster than the best that fits: memory binds.</summary>
    public RankedPlan? FasterOverMemory { get; init; }

    /// <summary>Layouts over memory that fit once the search offloaded some of their layers' activations (part of <see cref="Evaluated"/>).</summary>
    public long FitByOffloading { get; init; }

    /// <summary>
    /// Why the search did not run, where its space holds more layouts than one search simulates
    /// (<see cref="PlanSearch.MaximumLayouts"/>): the dimensions to pin. Null where it ran.
    /// </summary>
    public string? Refusal { get; init; }

    /// <summary>Everything the search removed before ranking.</summary>
    public long Pruned => PrunedLayout + PrunedMemory + PrunedOther;

    /// <summary>Why no layout was ranked: what the search pruned, counted, then the engine's reasons where it gave some.</summary>
    public ImmutableArray<string> WhyNoLayout() => Refusal is { } refusal ? [refusal] :
    [
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"no layout both divides and fits: of {Considered:N0} combinations, {PrunedLayout:N0} are not layouts, {PrunedMemory:N0} do not fit in memory and {PrunedOther:N0} were rejected otherwise (pin fewer fields, add chips, or lower the micro-batch or the sequence length)"),
        .. Rejections,
    ];
}
