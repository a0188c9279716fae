using System.Collections.Immutable;

namespace ClusterTwin.Reinforcement;

/// <summary>One way to share a run's systems between the trainer and the rollout engine, and its step.</summary>
/// <param name="TrainerSystems">Systems that train.</param>
/// <param name="RolloutSystems">Systems that generate.</param>
/// <param name="Step">The step at this split; null where the split cannot hold the layouts (<paramref name="Problem"/>).</param>
/// <param name="Problem">Why the layouts do not divide this split's chips; null where they do.</param>
public sealed record PoolSplit(int TrainerSystems, int RolloutSystems, ReinforcementStep? Step, string? Problem)
{
    /// <summary>Whether the step runs at this split.</summary>
    public bool Runs => Step is { Valid: true };
}

/// <summary>
/// Every split of separate pools' systems between training and generation (<c>rl --splits</c>), the trainer's data
/// parallelism and the rollout's replicas following the chips each side gets; the layouts' other degrees are kept.
/// </summary>
public static class PoolSplitSearch
{
    /// <summary>
    /// Why <paramref name="scenario"/>'s pools cannot be split again, and the scenario field it is about
    /// (<c>rl.placement</c>, <c>rollout.cluster.system</c> or <c>rollout.cluster</c>); null where they can.
    /// </summary>
    public static (string Field, string Reason)? Refusal(ReinforcementScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var trainer = scenario.Trainer.Cluster;
        var rollout = scenario.Rollout.Cluster;
        if (scenario.Settings.Placement != RolloutPlacement.Separate)
        {
            return ("rl.placement", "shares separate pools' systems between training and generation: it needs placement: separate (colocated, every chip does both)");
        }

        if (trainer.System.Id != rollout.System.Id || trainer.System.WholeSystemChips is not null || rollout.System.WholeSystemChips is not null)
        {
            return ("rollout.cluster.system", $"moves whole systems between the pools: both pools must be whole systems of one kind (the trainer is on {trainer.System.Name}, the rollout on {rollout.System.Name})");
        }

        return trainer.SystemCount + rollout.SystemCount < 3
            ? ("rollout.cluster", $"needs three systems or more between the pools to try more than the scenario's own split (it has {trainer.SystemCount + rollout.SystemCount})")
            : null;
    }

    /// <summary>Every split of the pools' systems, the trainer's fewest first.</summary>
    /// <exception cref="InvalidOperationException">The pools cannot be split (<see cref="Refusal"/>).</exception>
    public static ImmutableArray<PoolSplit> Run(ReinforcementScenario scenario)
    {
        if (Refusal(scenario) is { } refusal)
        {
            throw new InvalidOperationException($"{refusal.Field}: --splits {refusal.Reason}");
        }

        var systems = scenario.Trainer.Cluster.SystemCount + scenario.Rollout.Cluster.SystemCount;
        return [.. Enumerable.Range(1, systems - 1).Select(trainerSystems => Split(scenario, trainerSystems, systems - trainerSystems))];
    }

    private static PoolSplit Split(ReinforcementScenario scenario, int trainerSystems, int rolloutSystems)
    {
        var trainerCluster = scenario.Trainer.Cluster with { SystemCount = trainerSystems };
        var rolloutCluster = scenario.Rollout.Cluster with { SystemCount = rolloutSystems };
        var plan = scenario.Trainer.Plan;
        var modelParallel = (long)plan.TensorParallelism * plan.PipelineParallelism * plan.ContextParallelism;
        if (trainerCluster.ChipCount % modelParallel != 0)
        {
            return new(trainerSystems, rolloutSystems, null, $"the trainer's tensor x pipeline x context = {modelParallel} does not divide its {trainerCluster.ChipCount:N0} chips");
        }

        if (rolloutCluster.ChipCount % scenario.Rollout.ChipsPerReplica != 0)
        {
            return new(trainerSystems, rolloutSystems, null, $"the rollout's replicas of {scenario.Rollout.ChipsPerReplica} chips do not divide its {rolloutCluster.ChipCount:N0} chips");
        }

        var trainer = scenario.Trainer with { Cluster = trainerCluster, Plan = plan with { DataParallelism = (int)(trainerCluster.ChipCount / modelParallel) } };
        var rollout = scenario.Rollout with { Cluster = rolloutCluster };
        return new(trainerSystems, rolloutSystems, ReinforcementSimulator.Run(scenario with { Trainer = trainer, Rollout = rollout, Published = null }), null);
    }
}
