using System.Globalization;
using ClusterTwin.Engines;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Planning;

/// <summary>Why the best layout is best: what bounds its step, and what the runner-up gave and gained.</summary>
/// <param name="BoundBy">The largest part of the best layout's step (compute counts its recompute).</param>
/// <param name="BoundShare">That part's share of the step.</param>
/// <param name="Where">Where a communication part runs (the scale-up domain or the scale-out fabric), or null.</param>
/// <param name="MemoryShare">The best layout's memory per chip as a share of capacity.</param>
/// <param name="Summary">The sentence a report prints.</param>
/// <param name="RunnerUp">How the runner-up differs and what that cost it, or null when there is none.</param>
public sealed record PlanExplanation(string BoundBy, double BoundShare, string? Where, double MemoryShare, string Summary, string? RunnerUp)
{
    /// <summary>
    /// Explains <paramref name="best"/> against <paramref name="runnerUp"/> on <paramref name="scenario"/>'s cluster;
    /// <paramref name="fasterOverMemory"/> is the fastest layout that was pruned for memory alone, where it beats the best.
    /// </summary>
    /// <param name="scenario">The scenario searched.</param>
    /// <param name="best">The best layout.</param>
    /// <param name="runnerUp">The second best, if any.</param>
    /// <param name="fasterOverMemory">The fastest layout pruned for memory alone, where it beats the best.</param>
    /// <param name="memoryLimit">The memory per chip a layout could use (capacity less headroom); the capacity when null.</param>
    public static PlanExplanation Of(Scenario scenario, RankedPlan best, RankedPlan? runnerUp, RankedPlan? fasterOverMemory = null, Bytes? memoryLimit = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(best);
        var breakdown = best.Result.Breakdown!;
        var step = breakdown.Total.Seconds;
        var (name, time) = breakdown.Largest;
        var share = step > 0 ? time.Seconds / step : 0;
        var where = Location(scenario, best.Plan, name);
        var memoryShare = best.Result.Memory!.Total.Count / best.Result.MemoryCapacity.Count;
        var summary = name == StepBreakdown.ComputeName
            ? string.Create(CultureInfo.InvariantCulture, $"compute-bound: compute and recompute are {share * 100:0}% of the step")
            : string.Create(CultureInfo.InvariantCulture, $"bound by {name}{(where is null ? string.Empty : " on the " + where)} ({share * 100:0}% of the step)");
        if (fasterOverMemory is { Result.Memory: { } needed })
        {
            var faster = 1 - (fasterOverMemory.Result.StepTime.Seconds / step);
            summary += string.Create(CultureInfo.InvariantCulture,
                $"; memory binds too: the fastest layout that does not fit ({PlanDescription.Differences(best.Plan, fasterOverMemory.Plan)}) would be {faster * 100:0.0}% faster but needs {Quantity.FormatLike(needed.Total, best.Result.MemoryCapacity)} against a limit of {Quantity.FormatLike(memoryLimit ?? best.Result.MemoryCapacity, best.Result.MemoryCapacity)} per chip (this layout uses {memoryShare * 100:0}% of {best.Result.MemoryCapacity})");
        }

        return new PlanExplanation(name, share, where, memoryShare, summary, runnerUp is null ? null : Trade(best, runnerUp));
    }

    private static string? Location(Scenario scenario, ParallelPlan plan, string part)
    {
        var cluster = scenario.Cluster;
        var strides = RankStrides.Of(plan);
        var group = part switch
        {
            StepBreakdown.TensorParallelName => GroupPlacement.Place(cluster, plan.TensorParallelism, strides.Tensor),
            StepBreakdown.DataParallelName => GroupPlacement.Place(cluster, plan.ShardingDegree, strides.Gradient(plan)),
            StepBreakdown.ContextParallelName => ContextPass.Group(cluster, plan),
            StepBreakdown.ExpertParallelName => GroupPlacement.Place(cluster, plan.ExpertParallelism, strides.Expert(plan)),
            StepBreakdown.PipelineName => GroupPlacement.PlaceNeighbours(cluster, plan.PipelineParallelism, strides.Pipeline),
            _ => (CommunicationGroup?)null,
        };
        return group switch
        {
            null => null,
            { CrossesFabric: true, FabricTier: >= 0 } placed when placed.FabricTier < cluster.Fabric.Tiers.Length =>
                $"{cluster.Fabric.Name}, up to its {cluster.Fabric.Tiers[placed.FabricTier].Name} tier",
            { CrossesFabric: true } => cluster.Fabric.Name,
            _ => cluster.System.ScaleUpName,
        };
    }

    private static string Trade(RankedPlan best, RankedPlan runnerUp)
    {
        var slower = (runnerUp.Result.StepTime.Seconds / best.Result.StepTime.Seconds) - 1;
        var changes = PlanDescription.Differences(best.Plan, runnerUp.Plan);
        var deltas = best.Result.Breakdown!.Parts().Zip(runnerUp.Result.Breakdown!.Parts(), (mine, theirs) => (mine.Name, Delta: theirs.Time - mine.Time))
            .Where(item => Math.Abs(item.Delta.Seconds) > 1e-3 * best.Result.StepTime.Seconds)
            .OrderByDescending(item => Math.Abs(item.Delta.Seconds))
            .Take(3)
            .Select(item => (item.Delta.Seconds >= 0 ? "+" : "-") + Duration.FromSeconds(Math.Abs(item.Delta.Seconds)) + " " + item.Name)
            .ToArray();
        var memory = runnerUp.Result.Memory!.Total - best.Result.Memory!.Total;
        return string.Create(CultureInfo.InvariantCulture,
            $"the runner-up ({changes}) is {slower * 100:0.0}% slower: {(deltas.Length == 0 ? "the same parts" : string.Join(", ", deltas))}; it needs {Quantity.FormatLike(Bytes.FromCount(Math.Abs(memory.Count)), best.Result.MemoryCapacity)} {(memory.Count >= 0 ? "more" : "less")} memory per chip");
    }
}
