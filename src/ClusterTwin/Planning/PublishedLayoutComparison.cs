using System.Collections.Immutable;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Validation;

namespace ClusterTwin.Planning;

/// <summary>The best layout the search finds for one published run, against the layout the run's authors chose.</summary>
/// <param name="Case">The published run.</param>
/// <param name="Published">The published layout's predicted step (seconds).</param>
/// <param name="PublishedFits">Whether the model fits the published layout in memory (where it does not, it is outside the search space).</param>
/// <param name="Best">The best layout found, or null when none fits.</param>
/// <param name="OutsideSpace">Why the published layout is outside the search space, or null when it is inside.</param>
public sealed record PublishedLayoutComparison(ValidationCase Case, double Published, bool PublishedFits, RankedPlan? Best, string? OutsideSpace)
{
    /// <summary>How much faster the best layout is than the published one, in percent of the published step (negative: slower).</summary>
    public double? FasterByPercent => Best is null || Published <= 0 ? null : (1 - (Best.Result.StepTime.Seconds / Published)) * 100;

    /// <summary>
    /// Compares every case: the search keeps each case's framework settings (overlap, rank order, and its context
    /// exchange, which the published runs name as a framework option) and frees every other searched field; it may
    /// offload activations where the published run does.
    /// </summary>
    public static ImmutableArray<PublishedLayoutComparison> Of(IEnumerable<ValidationCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        return [.. cases.Select(Compare)];
    }

    private static PublishedLayoutComparison Compare(ValidationCase item)
    {
        var scenario = item.Scenario;
        var published = AnalyticalEngine.SimulateStep(scenario);
        var search = PlanSearch.Run(scenario, PlanPins.SettingsOf(scenario.Plan) with { ContextCommunication = scenario.Plan.ContextCommunication, SearchesOffloading = scenario.Plan.OffloadedLayers > 0 }, top: 1);
        var outside = !published.Valid ? "the published layout is not valid in the model: " + string.Join("; ", published.Problems)
            : scenario.Plan.ShardingGroup > 0 ? "hybrid sharding (a sharding group smaller than data parallelism) is not searched"
            : scenario.Plan.FirstStageLayers is not null || scenario.Plan.LastStageLayers is not null ? "explicit first- and last-stage layers are not searched (the search places layers by the default rule)"
            : !published.Fits ? "the model puts the published layout over memory"
            : search.Refusal;
        return new PublishedLayoutComparison(item, published.StepTime.Seconds, published.Fits, search.Plans.IsEmpty ? null : search.Plans[0], outside);
    }
}
