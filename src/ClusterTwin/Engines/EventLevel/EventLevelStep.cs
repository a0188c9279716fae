using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Engines.EventLevel;

/// <summary>
/// A scenario's step as the event-level engine replays it: the pipeline pass by pass on the analytical engine's costs
/// (<see cref="PipelineTimeline"/>), and the scenario's stragglers drawn over it (<see cref="StragglerDraws"/>).
/// </summary>
/// <param name="Timeline">The step replayed once without stragglers; null where it was not replayed.</param>
/// <param name="Stragglers">The straggler draws where the scenario names stragglers; otherwise null.</param>
/// <param name="NotReplayed">Why the step was not replayed (a plan that does not divide, too many passes); null where it was.</param>
public sealed record EventLevelStep(StepTimeline? Timeline, StragglerDraws? Stragglers, string? NotReplayed)
{
    /// <summary>Replays <paramref name="scenario"/>'s step and draws its stragglers.</summary>
    public static EventLevelStep Of(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (AnalyticalEngine.Stages(scenario) is not { } stages)
        {
            return new EventLevelStep(null, null, "the plan does not divide");
        }

        if (PipelineTimeline.Passes(stages) > PipelineTimeline.MostPasses)
        {
            return new EventLevelStep(null, null, $"the step has {PipelineTimeline.Passes(stages):N0} passes, more than the {PipelineTimeline.MostPasses:N0} a replay takes");
        }

        var stragglers = scenario.Stragglers is { } settings ? StragglerDraws.Of(stages, scenario.Cluster.ChipCount, settings) : null;
        return new EventLevelStep(PipelineTimeline.Of(stages), stragglers, null);
    }
}
