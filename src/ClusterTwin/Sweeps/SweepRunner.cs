using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Planning;
using ClusterTwin.Reinforcement;
using ClusterTwin.Sharing;
using ClusterTwin.Units;

namespace ClusterTwin.Sweeps;

/// <summary>
/// Runs a sweep's points, or one shard's: each point read, simulated (or searched, then simulated at its best
/// layout), in point order whatever the threads. A point costs what one <c>simulate</c> (or <c>plan</c> on one thread)
/// costs; the points are independent, so shards on separate machines give, merged, what one machine gives.
/// </summary>
public static class SweepRunner
{
    /// <summary>Points evaluated together by the threads before their rows are given out, in order.</summary>
    private const int BlockPerThread = 16;

    /// <summary>The rows of <paramref name="shard"/>'s points of <paramref name="sweep"/>, in order, on <paramref name="threads"/> threads.</summary>
    public static IEnumerable<SweepRow> Run(SweepDefinition sweep, HardwareCatalog catalog, SweepShard shard, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        var block = new List<long>(BlockPerThread * threads);
        foreach (var point in shard.Of(sweep.Points))
        {
            block.Add(point);
            if (block.Count == block.Capacity)
            {
                foreach (var row in Evaluate(sweep, catalog, block, threads))
                {
                    yield return row;
                }

                block.Clear();
            }
        }

        foreach (var row in Evaluate(sweep, catalog, block, threads))
        {
            yield return row;
        }
    }

    private static SweepRow[] Evaluate(SweepDefinition sweep, HardwareCatalog catalog, List<long> points, int threads)
    {
        var rows = new SweepRow[points.Count];
        Parallel.For(0, points.Count, new ParallelOptions { MaxDegreeOfParallelism = threads }, index => rows[index] = Point(sweep, catalog, points[index]));
        return rows;
    }

    /// <summary>Point <paramref name="point"/>'s row.</summary>
    public static SweepRow Point(SweepDefinition sweep, HardwareCatalog catalog, long point)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var row = new SweepRow(point, sweep.ValuesAt(point));
        if (sweep.Serving)
        {
            return Served(sweep, catalog, point, row);
        }

        if (sweep.Reinforcement)
        {
            return Reinforced(sweep, catalog, point, row);
        }

        if (sweep.Shared)
        {
            return SharedPoint(sweep, catalog, point, row);
        }

        PlanningScenario loaded;
        try
        {
            loaded = SweepLoader.LoadPoint(sweep, point, catalog);
        }
        catch (InputException error)
        {
            return row with { Problems = Problems(error) };
        }

        var scenario = loaded.Scenario;
        if (sweep.Search)
        {
            if (sweep.Objective.Missing(scenario) is { } missing)
            {
                return row with { Problems = [$"objective {sweep.Objective.ToString().ToLowerInvariant()}: {missing}"] };
            }

            var search = PlanSearch.Run(scenario, loaded.Pins, top: 1, threads: 1, objective: sweep.Objective);
            if (search.Plans.IsEmpty)
            {
                return row with { Problems = search.WhyNoLayout() };
            }

            scenario = scenario with { Plan = search.Plans[0].Plan };
        }

        var result = AnalyticalEngine.Simulate(scenario);
        return !result.Valid
            ? row with { Chips = result.Chips, Problems = result.Problems }
            : row with
            {
                Valid = true,
                Chips = result.Chips,
                Plan = PlanDescription.Of(scenario.Plan),
                Degrees = PlanDescription.Degrees(scenario.Plan),
                StepTime = result.StepTime,
                TokensPerSecond = result.TokensPerSecond,
                ModelFlopsUtilization = result.ModelFlopsUtilization,
                MemoryPerChip = result.Memory!.Total,
                Fits = result.Fits,
                EnergyPerToken = result.Energy?.ItPerToken,
                CostPerMillionTokens = result.Cost?.PerMillionTokens,
                TimeToTrain = result.TimeToTrain,
                Problems = ImmutableArray<string>.Empty,
            };
    }

    /// <summary>A serving point: its scenario served request by request, as <c>serve</c> does.</summary>
    private static SweepRow Served(SweepDefinition sweep, HardwareCatalog catalog, long point, SweepRow row)
    {
        ServingScenario scenario;
        try
        {
            scenario = SweepLoader.LoadServingPoint(sweep, point, catalog);
        }
        catch (InputException error)
        {
            return row with { Problems = Problems(error) };
        }

        var result = scenario.Run();
        if (result.Completed == 0)
        {
            return row with { Chips = result.Chips, Problems = [$"no request completed ({result.Refused:N0} refused, {result.Unfinished:N0} unfinished): serve the scenario for why"] };
        }

        static (Duration, Duration) Percentiles(Serving.Summary summary) => (Duration.FromSeconds(summary.P50), Duration.FromSeconds(summary.P99));
        return row with
        {
            Valid = true,
            Chips = result.Chips,
            Serving = new ServingFigures(result.OutputTokensPerSecond, result.Goodput, result.Attainment, Percentiles(result.TimeToFirstToken), Percentiles(result.TimePerOutputToken),
                result.EnergyPerOutputToken, result.CostPerMillionOutputTokens),
        };
    }

    /// <summary>An RL post-training point: one step, as <c>rl</c> simulates it.</summary>
    private static SweepRow Reinforced(SweepDefinition sweep, HardwareCatalog catalog, long point, SweepRow row)
    {
        ReinforcementScenario scenario;
        try
        {
            scenario = SweepLoader.LoadReinforcementPoint(sweep, point, catalog);
        }
        catch (InputException error)
        {
            return row with { Problems = Problems(error) };
        }

        var step = ReinforcementSimulator.Run(scenario);
        return !step.Valid
            ? row with { Chips = scenario.Chips, Problems = step.Problems }
            : row with
            {
                Valid = true,
                Chips = scenario.Chips,
                Reinforcement = new ReinforcementFigures(step.StepTime, step.GenerationTime, step.TrainerTime, step.WeightUpdateTime, step.OffloadTime, step.GenerationShare,
                    step.TrainedTokensPerSecondPerChip, step.EnergyPerTrainedToken, step.CostPerMillionTrainedTokens),
            };
    }

    /// <summary>A shared cluster's point: its jobs side by side, as <c>share</c> runs them.</summary>
    private static SweepRow SharedPoint(SweepDefinition sweep, HardwareCatalog catalog, long point, SweepRow row)
    {
        SharedCluster shared;
        try
        {
            shared = SweepLoader.LoadSharedPoint(sweep, point, catalog);
        }
        catch (InputException error)
        {
            return row with { Problems = Problems(error) };
        }

        var result = SharedFabric.Run(shared);
        var chips = shared.Cluster.ChipCount;
        if (!result.Valid)
        {
            return row with { Chips = chips, Problems = [.. result.Jobs.Where(job => !job.Valid).SelectMany(job => job.Problems.Select(problem => $"{job.Name}: {problem}"))] };
        }

        // Where sharing slows no job, none is named.
        var most = result.Jobs.MaxBy(job => job.Slowdown)!;
        var slowed = most.Slowdown > 1e-9 ? most.Name : "none";
        return row with
        {
            Valid = true,
            Chips = chips,
            Shared = new SharedFigures(result.ChipWeightedSlowdown, slowed, Math.Max(0, most.Slowdown), result.Jobs.Max(job => job.AlignedSlowdown), result.Jobs.Sum(job => job.Shared.TokensPerSecond), result.Converged),
        };
    }

    /// <summary>A point's reading problems, each as its field and message (the file and line are the base scenario's, or the sweep's for a value).</summary>
    private static ImmutableArray<string> Problems(InputException error) =>
        [.. error.Diagnostics.Select(problem => problem.Field.Length > 0 ? $"{problem.Field}: {problem.Message}" : problem.Message)];
}
