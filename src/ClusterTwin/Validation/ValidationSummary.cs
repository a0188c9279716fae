using System.Collections.Immutable;

namespace ClusterTwin.Validation;

/// <summary>Error and band coverage over a set of outcomes.</summary>
/// <param name="Name">What the set is: "all", a chip family, a source.</param>
/// <param name="Count">Cases (figures, for serving).</param>
/// <param name="MeanAbsoluteErrorPercent">Mean absolute error.</param>
/// <param name="MaximumAbsoluteErrorPercent">Worst absolute error.</param>
/// <param name="BandCoverage">Fraction of measurements inside their band.</param>
/// <param name="HeldOutCount">Cases (figures, for serving) with a held-out prediction.</param>
/// <param name="HeldOutMeanAbsoluteErrorPercent">Mean absolute error of the held-out predictions; null when there are none.</param>
/// <param name="HeldOutMaximumAbsoluteErrorPercent">Worst absolute error of the held-out predictions; null when there are none.</param>
public sealed record ValidationGroup(string Name, int Count, double MeanAbsoluteErrorPercent, double MaximumAbsoluteErrorPercent, double BandCoverage,
    int HeldOutCount, double? HeldOutMeanAbsoluteErrorPercent, double? HeldOutMaximumAbsoluteErrorPercent)
{
    /// <summary>Summarizes a set of outcomes.</summary>
    public static ValidationGroup Of(string name, IReadOnlyCollection<ValidationOutcome> outcomes) => From(
        name,
        [.. outcomes.Select(outcome => (outcome.ErrorPercent, outcome.WithinBand))],
        [.. outcomes.Where(outcome => outcome.HeldOutErrorPercent is not null).Select(outcome => outcome.HeldOutErrorPercent!.Value)]);

    /// <summary>Summarizes signed errors in percent, whether each measurement fell in its band, and any held-out errors.</summary>
    public static ValidationGroup From(string name, IReadOnlyList<(double ErrorPercent, bool WithinBand)> figures, IReadOnlyList<double> heldOutErrors)
    {
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(heldOutErrors);
        var errors = figures.Select(figure => Math.Abs(figure.ErrorPercent)).ToArray();
        var heldOut = heldOutErrors.Select(Math.Abs).ToArray();
        return new(name, errors.Length, errors.Length == 0 ? 0 : errors.Average(), errors.Length == 0 ? 0 : errors.Max(),
            errors.Length == 0 ? 0 : figures.Count(figure => figure.WithinBand) / (double)errors.Length,
            heldOut.Length, heldOut.Length == 0 ? null : heldOut.Average(), heldOut.Length == 0 ? null : heldOut.Max());
    }
}

/// <summary>The whole validation: every outcome, and the summary overall, by chip family, by source and by workload.</summary>
/// <param name="Outcomes">Every case's outcome.</param>
/// <param name="Overall">All cases together.</param>
/// <param name="ByFamily">One group per chip family, by name.</param>
/// <param name="BySource">One group per source, by key.</param>
public sealed record ValidationSummary(ImmutableArray<ValidationOutcome> Outcomes, ValidationGroup Overall, ImmutableArray<ValidationGroup> ByFamily, ImmutableArray<ValidationGroup> BySource)
{
    /// <summary>The serving cases' validation, where there are serving cases.</summary>
    public ServingValidationSummary? Serving { get; init; }

    /// <summary>
    /// The cases by what they train, each group where it has a case: dense models, mixtures of experts, sequences split
    /// by context parallelism, and 8-bit or narrower formats. A case can be in several (a mixture of experts in MXFP8
    /// split over a long context).
    /// </summary>
    public ImmutableArray<ValidationGroup> ByWorkload { get; init; } = [];

    /// <summary>Summarizes <paramref name="outcomes"/>.</summary>
    public static ValidationSummary Of(ImmutableArray<ValidationOutcome> outcomes) => new(
        outcomes,
        ValidationGroup.Of("all", outcomes),
        [.. outcomes.GroupBy(outcome => outcome.Family).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => ValidationGroup.Of(group.Key, [.. group]))],
        [.. outcomes.GroupBy(outcome => outcome.Case.SourceKey).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => ValidationGroup.Of(group.Key, [.. group]))])
    {
        ByWorkload = [.. Workloads
            .Select(workload => ValidationGroup.Of(workload.Name, [.. outcomes.Where(outcome => workload.Holds(outcome.Case.Scenario))]))
            .Where(group => group.Count > 0)],
    };

    private static readonly (string Name, Func<Scenarios.Scenario, bool> Holds)[] Workloads =
    [
        ("dense", scenario => scenario.Model.MixtureOfExperts is null),
        ("mixture of experts", scenario => scenario.Model.MixtureOfExperts is not null),
        ("context parallel", scenario => scenario.Plan.ContextParallelism > 1),
        ("8-bit and narrower formats", scenario => scenario.Job.CastsMultiplyInputs),
    ];
}

/// <summary>The serving validation: every measured figure, and the error overall, by kind of figure, by family and by source.</summary>
/// <param name="Outcomes">Every figure's outcome.</param>
/// <param name="Overall">Every figure together.</param>
/// <param name="ByKind">Throughputs, then latencies.</param>
/// <param name="ByFamily">One group per chip family.</param>
/// <param name="BySource">One group per source.</param>
public sealed record ServingValidationSummary(ImmutableArray<ServingOutcome> Outcomes, ValidationGroup Overall, ImmutableArray<ValidationGroup> ByKind, ImmutableArray<ValidationGroup> ByFamily, ImmutableArray<ValidationGroup> BySource)
{
    /// <summary>Summarizes <paramref name="outcomes"/>.</summary>
    public static ServingValidationSummary Of(ImmutableArray<ServingOutcome> outcomes) => new(
        outcomes,
        Group("all", outcomes),
        [Group("throughput", [.. outcomes.Where(outcome => outcome.Measure.IsThroughput())]), Group("latency", [.. outcomes.Where(outcome => !outcome.Measure.IsThroughput())])],
        [.. outcomes.GroupBy(outcome => outcome.Family).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => Group(group.Key, [.. group]))],
        [.. outcomes.GroupBy(outcome => outcome.Case.SourceKey).OrderBy(group => group.Key, StringComparer.Ordinal).Select(group => Group(group.Key, [.. group]))]);

    /// <summary>A group of serving figures, with the held-out errors of those that have one.</summary>
    private static ValidationGroup Group(string name, IReadOnlyCollection<ServingOutcome> outcomes) =>
        ValidationGroup.From(name, [.. outcomes.Select(outcome => (outcome.ErrorPercent, outcome.WithinBand))],
            [.. outcomes.Where(outcome => outcome.HeldOutErrorPercent is not null).Select(outcome => outcome.HeldOutErrorPercent!.Value)]);
}
