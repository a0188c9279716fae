using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.Mixed;

/// <summary>
/// Simulates a training step whose pipeline runs on two kinds of chip (<see cref="MixedPipeline"/>): the first stages
/// on one, the rest on the other, such as NVIDIA GPUs and Trainium4 in one NVLink Fusion domain.
/// </summary>
/// <remarks>
/// <para>
/// Each kind's ranks are costed by the analytical engine on its own chips, framework and calibration, with the plan's
/// tensor, context and data degrees (<see cref="RankCosting"/>): a layer costs what it costs on those chips whatever
/// stage holds it. The closed form charges every rank the slowest's; here the ranks differ by design, so the step is
/// the event-level replay (<see cref="PipelineTimeline"/>) of every rank's own work.
/// </para>
/// <para>
/// Unless the scenario fixes the first kind's layers per stage, the engine balances them: it places the layers so
/// that the slowest stage is as fast as it can be, the first kind's stages holding equal counts and the rest's
/// sharing the remainder (one more on their earliest stages, the last holding the head). Every send is charged at the
/// slowest of the two kinds' sends and the one between them (over scale-up where the two systems share a domain,
/// scale-out otherwise). Each kind reduces its own gradients after the pipeline drains; the step waits for the
/// slower. Each kind's energy is its share of the model's work at the step's length on its own power model; a kind
/// that would exceed its power limit stretches the whole step, as a homogeneous cluster's does.
/// </para>
/// </remarks>
public static class MixedPipelineEngine
{
    /// <summary>Simulates <paramref name="scenario"/>, whose <see cref="Scenario.MixedPipeline"/> must be set.</summary>
    public static MixedPipelineResult Simulate(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var mixed = scenario.MixedPipeline ?? throw new ArgumentException("the scenario has no mixed pipeline", nameof(scenario));
        var (model, job, plan) = (scenario.Model, scenario.Job, scenario.Plan);
        var pipeline = plan.PipelineParallelism;
        var kinds = new[]
        {
            new Kind(scenario with { Cluster = mixed.Cluster, Efficiency = mixed.Efficiency, Cost = mixed.Cost, MixedPipeline = null, Framework = mixed.Framework }, 0, mixed.Stages),
            new Kind(scenario with { MixedPipeline = null }, mixed.Stages, pipeline - mixed.Stages),
        };

        var costings = new RankCosting?[2];
        var results = new TrainingStepResult[2];
        for (var index = 0; index < 2; index++)
        {
            (results[index], costings[index]) = AnalyticalEngine.Costing(kinds[index].Scenario with { Plan = CostingPlan(kinds[index], model.Layers) });
        }

        // What stops a kind's costing (a costed whole model that does not fit its chips is no problem here: the stages
        // hold their own layers). A problem of the plan itself is both kinds'; it is said once, without a kind.
        var stopped = costings.Select((costing, index) => costing is null ? results[index].Problems : []).ToArray();
        var both = stopped[0].Intersect(stopped[1]).ToHashSet();
        var problems = new List<string>(both);
        for (var index = 0; index < 2; index++)
        {
            problems.AddRange(stopped[index].Where(problem => !both.Contains(problem)).Select(problem => $"{kinds[index].Scenario.Cluster.Chip.Name}: {problem}"));
        }

        var microBatches = job.GlobalBatchSize / (double)(plan.DataParallelism * plan.MicroBatchSize);
        if (plan.VirtualStages > 1 && microBatches % pipeline != 0)
        {
            problems.Add($"the interleaved schedule needs the {microBatches} micro-batches per step to be a multiple of the pipeline size {pipeline}");
        }

        // The step is the replay's: a step of more passes than a replay takes has none (whatever the placement).
        var passes = PipelineTimeline.Passes(pipeline, plan.VirtualStages, (long)microBatches);
        if (passes > PipelineTimeline.MostPasses)
        {
            problems.Add($"the step has {passes:N0} passes, more than the {PipelineTimeline.MostPasses:N0} a replay takes (fewer micro-batches, by a larger micro-batch or more data parallelism, replay it)");
        }

        problems.AddRange(Unreachable(kinds));
        var placement = problems.Count > 0 ? null : Placement(mixed, model.Layers, pipeline, plan.VirtualStages, [costings[0]!, costings[1]!], Fits(kinds, model, job, plan));
        if (problems.Count == 0 && placement is null)
        {
            problems.Add(mixed.LayersPerStage is { } given
                ? $"{given} layers on each of the first {mixed.Stages} stages leaves the other {pipeline - mixed.Stages} stages {model.Layers - (given * mixed.Stages)} layers, which do not split into whole chunks of {plan.VirtualStages} per stage (every stage's layers must be a multiple of the virtual stages, at least one chunk each)"
                : $"no placement of the {model.Layers} layers gives every one of the {pipeline} stages a multiple of {plan.VirtualStages} layers (the virtual stages), at least one chunk each");
        }

        if (problems.Count > 0)
        {
            return new MixedPipelineResult { Scenario = scenario.Name, Valid = false, Problems = [.. problems] };
        }

        var layers = placement!;
        var ranks = ImmutableArray.CreateBuilder<RankWork>(pipeline);
        var sends = new Duration[3];
        var pools = new MixedPipelinePool[2];
        var afterPipeline = Duration.Zero;
        for (var index = 0; index < 2; index++)
        {
            var (kind, costing) = (kinds[index], costings[index]!);
            var (slowest, shared, experts) = (default(StageCost), 0.0, 0.0);
            var heaviest = default(MemoryBreakdown);
            var work = Flops.Zero;
            var start = layers.Take(kind.FirstStage).Sum();
            for (var rank = kind.FirstStage; rank < kind.FirstStage + kind.Stages; start += layers[rank++])
            {
                var (cost, rankWork) = costing.Rank(start, layers[rank], rank == 0, rank == pipeline - 1);
                ranks.Add(rankWork);
                work += cost.HardwareWork;
                slowest = cost.Total > slowest.Total ? cost : slowest;
                var framework = kind.Scenario.Framework;
                var memory = MemoryModel.PerRank(model, job, plan, rank, start, layers[rank], framework.FullyShardedWeights, framework.GradientReductionFor(job), framework.SavedMultiplyInputs);
                heaviest = heaviest is null || memory.Total > heaviest.Total ? memory : heaviest;
                var (rankShared, rankExperts) = StageParameters.OfRank(model, job, plan, rank, start, layers[rank]);
                (shared, experts) = (Math.Max(shared, rankShared), Math.Max(experts, rankExperts));
            }

            var after = costing.AfterPipeline(shared, experts, slowest);
            afterPipeline = Duration.Max(afterPipeline, after);
            sends[index] = kind.Stages > 1 ? AnalyticalEngine.PipelineSend(kind.Scenario.Cluster, kind.Scenario.Efficiency, model, job, plan with { PipelineParallelism = kind.Stages }) : Duration.Zero;
            var cluster = kind.Scenario.Cluster;
            var result = results[index];
            var modelWork = result.HardwareFlopsPerStep.Operations / (microBatches * plan.DataParallelism * plan.TensorParallelism * plan.ContextParallelism);
            pools[index] = new MixedPipelinePool(cluster.System.Name, cluster.Chip.Name, kind.Scenario.Framework.Name, cluster.ChipCount, kind.FirstStage,
                [.. layers.Skip(kind.FirstStage).Take(kind.Stages)], slowest.Total, heaviest!, cluster.Chip.MemoryCapacity.Value, after, result.PeakRatePerChip,
                modelWork > 0 ? work.Operations / modelWork : 0, null, null);
        }

        // Each kind's share is of the model as its own engine counts it (with a mixture of experts, the busiest chip's
        // experts per stage against the average's in the whole): the two are scaled to add up to the model.
        var shares = pools.Sum(pool => pool.WorkShare);
        pools = [.. pools.Select(pool => pool with { WorkShare = shares > 0 ? pool.WorkShare / shares : 0 })];
        sends[2] = BoundarySend(kinds, plan, model, job);
        var overlap = plan.OverlapsPipelineSends(kinds[0].Scenario.Framework) && plan.OverlapsPipelineSends(kinds[1].Scenario.Framework);
        var stages = new PipelineStages(ranks.MoveToImmutable(), plan.VirtualStages, (int)microBatches, sends.Max(), overlap, afterPipeline, 1);
        var timeline = PipelineTimeline.Of(stages);
        var step = timeline.StepTime;

        // Each kind's energy at the step's length; a kind past its power limit stretches the step, and both kinds' energy
        // and cost are taken again over the stretched step.
        var priced = Priced(pools, kinds, results, step);
        var stretch = priced.Max(pool => pool.Energy is { PowerLimited: true } energy ? energy.StepTime / step : 1);
        if (stretch > 1)
        {
            priced = Priced(pools, kinds, results, step * stretch);
        }

        timeline = timeline with { Stages = stages with { PowerStretch = stretch } };

        // Every stage's work is shared by as many chips (the plan's tensor x context x data), whichever kind runs it.
        var chips = pools.Sum(pool => pool.Chips);
        var stragglers = scenario.Stragglers is { } settings ? StragglerDraws.Of(timeline.Stages, chips, settings) : null;

        return new MixedPipelineResult
        {
            Scenario = scenario.Name,
            Valid = true,
            Warnings = [.. results.SelectMany((result, index) => result.Warnings.Select(warning => $"{kinds[index].Scenario.Cluster.Chip.Name}: {warning}")).Distinct()],
            Pools = [.. priced],
            LayersBalanced = mixed.LayersPerStage is null,
            Timeline = timeline,
            Stragglers = stragglers,
            TokensPerStep = job.TokensPerStep,
            ModelFlopsPerStep = AnalyticalEngine.ModelFlops(model, job),
        };
    }

    /// <summary>One kind of chip's scenario and the stages it runs.</summary>
    private sealed record Kind(Scenario Scenario, int FirstStage, int Stages);

    /// <summary>
    /// The plan a kind's ranks are costed with: the scenario's degrees over its own stages, one chunk each (a layer's
    /// cost does not depend on the schedule), its layers placed any way that places them (the placement is the mixed
    /// pipeline's, not this plan's).
    /// </summary>
    private static Parallelism.ParallelPlan CostingPlan(Kind kind, int layers)
    {
        var stages = kind.Stages;
        var middle = layers / stages;
        return kind.Scenario.Plan with
        {
            PipelineParallelism = stages,
            VirtualStages = 1,
            FirstStageLayers = stages > 1 ? layers - ((stages - 1) * middle) : null,
            LastStageLayers = stages > 1 ? middle : null,
        };
    }

    /// <summary>
    /// Why the two kinds' stages cannot send to each other: they share no scale-up domain and one has no scale-out
    /// network (each kind's own stages span systems only where its system has one: the scenario's reader sees to it).
    /// </summary>
    private static IEnumerable<string> Unreachable(Kind[] kinds)
    {
        var (one, other) = (kinds[0].Scenario.Cluster.System, kinds[1].Scenario.Cluster.System);
        if (DisaggregatedDeployment.Incompatibility(one, other, TransferTier.ScaleUp) is not null && (one.ScaleOutBandwidth is null || other.ScaleOutBandwidth is null))
        {
            yield return $"the {one.Name} and the {other.Name} share no scale-up domain, and the {(one.ScaleOutBandwidth is null ? one.Name : other.Name)} has no scale-out network: the two kinds' stages cannot send to each other";
        }
    }

    /// <summary>Whether every stage of a placement fits in its kind's chips' memory.</summary>
    private static Func<int[], bool> Fits(Kind[] kinds, Workloads.ModelArchitecture model, Workloads.TrainingJob job, Parallelism.ParallelPlan plan) => placed =>
    {
        var start = 0;
        for (var rank = 0; rank < placed.Length; start += placed[rank++])
        {
            var scenario = kinds[rank < kinds[1].FirstStage ? 0 : 1].Scenario;
            var framework = scenario.Framework;
            var memory = MemoryModel.PerRank(model, job, plan, rank, start, placed[rank], framework.FullyShardedWeights, framework.GradientReductionFor(job), framework.SavedMultiplyInputs);
            if (memory.Total > scenario.Cluster.Chip.MemoryCapacity.Value)
            {
                return false;
            }
        }

        return true;
    };

    /// <summary>
    /// The layers of each stage: the scenario's count on each of the first kind's stages, or the share of the layers
    /// on the first kind that makes the slowest stage fastest among those that <paramref name="fits"/> in memory (among
    /// all where none does), each kind's spread over its stages in whole chunks. Null where no share places every
    /// stage whole chunks.
    /// </summary>
    private static int[]? Placement(MixedPipeline mixed, int layers, int pipeline, int chunks, RankCosting[] costings, Func<int[], bool> fits)
    {
        var (first, rest) = (mixed.Stages, pipeline - mixed.Stages);

        // The first kind's stages hold firstLayers, the rest the others, each kind's spread in whole chunks as evenly as
        // they go: a stage more on the first kind's last stages (away from the embedding) and on the other kind's
        // first ones (away from the head).
        int[]? Place(int firstLayers)
        {
            var remaining = layers - firstLayers;
            if (firstLayers % chunks != 0 || remaining % chunks != 0 || firstLayers / chunks < first || remaining / chunks < rest)
            {
                return null;
            }

            var (firstEach, firstExtra) = (firstLayers / chunks / first, firstLayers / chunks % first);
            var (restEach, restExtra) = (remaining / chunks / rest, remaining / chunks % rest);
            return [.. Enumerable.Range(0, pipeline).Select(rank => chunks * (rank < first
                ? firstEach + (first - 1 - rank < firstExtra ? 1 : 0)
                : restEach + (rank - first < restExtra ? 1 : 0)))];
        }

        if (mixed.LayersPerStage is { } given)
        {
            return Place(given * first);
        }

        Duration Slowest(int[] placed)
        {
            var (slowest, start) = (Duration.Zero, 0);
            for (var rank = 0; rank < pipeline; rank++)
            {
                var costing = costings[rank < first ? 0 : 1];
                slowest = Duration.Max(slowest, costing.Rank(start, placed[rank], rank == 0, rank == pipeline - 1).Work.Total);
                start += placed[rank];
            }

            return slowest;
        }

        var (best, bestTime, bestFits) = (default(int[]), Duration.Zero, false);
        for (var firstLayers = chunks * first; firstLayers <= layers - (chunks * rest); firstLayers += chunks)
        {
            if (Place(firstLayers) is not { } placed)
            {
                continue;
            }

            var (time, fitting) = (Slowest(placed), fits(placed));
            if (best is null || (fitting && !bestFits) || (fitting == bestFits && time < bestTime))
            {
                (best, bestTime, bestFits) = (placed, time, fitting);
            }
        }

        return best;
    }

    /// <summary>
    /// The send between the last stage of the first kind and the first of the other: over the scale-up domain the two
    /// systems share where they share one, else between systems over scale-out; at the slower kind's links.
    /// </summary>
    private static Duration BoundarySend(Kind[] kinds, Parallelism.ParallelPlan plan, Workloads.ModelArchitecture model, Workloads.TrainingJob job)
    {
        var (one, other) = (kinds[0].Scenario.Cluster.System, kinds[1].Scenario.Cluster.System);
        var path = DisaggregatedDeployment.Incompatibility(one, other, TransferTier.ScaleUp) is null ? PipelineSendPath.WithinSystem : PipelineSendPath.AcrossSystems;
        return kinds.Max(kind => AnalyticalEngine.PipelineSend(kind.Scenario.Cluster, kind.Scenario.Efficiency, model, job, plan, path));
    }

    /// <summary>Each of <paramref name="pools"/> with its energy and cost over a step of <paramref name="step"/>.</summary>
    private static MixedPipelinePool[] Priced(MixedPipelinePool[] pools, Kind[] kinds, TrainingStepResult[] results, Duration step) =>
        [.. pools.Select((pool, index) => Priced(pool, kinds[index].Scenario, results[index], step))];

    /// <summary><paramref name="pool"/> with its energy and cost over a step of <paramref name="step"/>: its share of the model's work, traffic and tokens on its own power model and prices.</summary>
    private static MixedPipelinePool Priced(MixedPipelinePool pool, Scenario scenario, TrainingStepResult result, Duration step)
    {
        var share = pool.WorkShare;
        var activity = new StepActivity(step, result.HardwareFlopsPerStep * share, result.MemoryTrafficPerStep * share, result.LinkTrafficPerStep * share,
            result.TokensPerStep, result.ModelFlopsPerStep * share, result.Bf16FlopsPerStep * share);
        var energy = EnergyModel.Of(scenario.Cluster, scenario.Job.Precision, activity, null, scenario.Cost?.PowerUsageEffectiveness);
        var held = energy?.StepTime ?? step;
        var cost = scenario.Cost is { } settings ? CostModel.Of(settings, pool.Chips, scenario.Cluster.SystemCount, held, held, held, result.TokensPerStep, energy) : null;
        return pool with { Energy = energy, Cost = cost };
    }
}
