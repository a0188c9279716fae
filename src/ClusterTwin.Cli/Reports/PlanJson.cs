using ClusterTwin.Engines;
using ClusterTwin.Planning;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Cli.Reports;

/// <summary>The JSON document of <c>plan --json</c>; every field is documented in <c>docs/json-output.md</c>.</summary>
public static class PlanJson
{
    /// <summary>Serializes a search.</summary>
    public static string Serialize(Scenario scenario, PlanSearchResult search, TimeSpan elapsed, TrainingStepResult? given) => Json.Serialize(Document(scenario, search, elapsed, given));

    /// <summary>The search as an object tree, which <see cref="Json.Serialize(object)"/> writes (the dashboard sends it too).</summary>
    public static object Document(Scenario scenario, PlanSearchResult search, TimeSpan elapsed, TrainingStepResult? given)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(search);
        var best = search.Plans.IsEmpty ? null : search.Plans[0].Result;
        return new
        {
            scenario = scenario.Name,
            objective = search.Objective.ToString().ToLowerInvariant(),
            chips = scenario.Cluster.ChipCount,
            ranksPerChip = scenario.Cluster.Chip.Ranks,
            considered = search.Considered,
            pruned = search.Pruned,
            prunedLayout = search.PrunedLayout,
            prunedMemory = search.PrunedMemory,
            prunedOther = search.PrunedOther,
            evaluated = search.Evaluated,
            fitByOffloading = search.FitByOffloading,
            elapsedSeconds = elapsed.TotalSeconds,
            rejections = search.Rejections,
            plans = search.Plans.Select((ranked, index) => new
            {
                rank = index + 1,
                plan = SimulationJson.Plan(ranked.Plan),
                stepTimeSeconds = ranked.Result.StepTime.Seconds,
                stepTimeBandSeconds = new { low = ranked.Result.StepTimeLow.Seconds, high = ranked.Result.StepTimeHigh.Seconds },
                tokensPerSecond = ranked.Result.TokensPerSecond,
                mfu = ranked.Result.ModelFlopsUtilization,
                memoryPerChipBytes = ranked.Result.Memory!.Total.Count,
                memoryCapacityBytes = ranked.Result.MemoryCapacity.Count,
                breakdown = SimulationJson.Breakdown(ranked.Result.Breakdown!),
                energyPerStepJoules = ranked.Result.Energy?.ItPerStep.Joules,
                joulesPerToken = ranked.Result.Energy?.ItPerToken.Joules,
                costPerMillionTokens = ranked.Result.Cost?.PerMillionTokens.Dollars,
                warnings = ranked.Result.Warnings,
            }),
            explanation = search.Explanation is not { } explanation ? null : new
            {
                boundBy = explanation.BoundBy,
                boundShare = explanation.BoundShare,
                where = explanation.Where,
                memoryShare = explanation.MemoryShare,
                summary = explanation.Summary,
                runnerUp = explanation.RunnerUp,
            },
            fasterOverMemory = search.FasterOverMemory is not { } over ? null : new
            {
                plan = SimulationJson.Plan(over.Plan),
                stepTimeSeconds = over.Result.StepTime.Seconds,
                memoryPerChipBytes = over.Result.Memory?.Total.Count,
            },
            given = given is not { Valid: true } || best is null ? null : new
            {
                plan = SimulationJson.Plan(scenario.Plan),
                stepTimeSeconds = given.StepTime.Seconds,
                fits = given.Fits,
                bestFasterByPercent = (1 - (best.StepTime.Seconds / given.StepTime.Seconds)) * 100,
            },
        };
    }
}
