using ClusterTwin.Economics;
using ClusterTwin.Scenarios;
using ClusterTwin.Serving;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// Reinforcement-learning post-training: a trainer (a training scenario: its cluster, layout and job, the batch set by
/// each step's responses), a rollout engine that generates them (a serving deployment), and the algorithm's step.
/// </summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Trainer">The trainer: its <c>training.sequence_length</c> is the length samples are packed to, its global batch set per step.</param>
/// <param name="Rollout">The rollout engine; on the trainer's chips when <see cref="ReinforcementSettings.Placement"/> is colocated.</param>
/// <param name="RolloutCost">The prices of the rollout engine's chips (separate placement).</param>
/// <param name="Settings">The step: prompts, samples, lengths, updates, scoring passes, placement.</param>
public sealed record ReinforcementScenario(string Name, Scenario Trainer, ServingDeployment Rollout, CostSettings RolloutCost, ReinforcementSettings Settings)
{
    /// <summary>Chips the run holds: the trainer's, and the rollout engine's where it has its own.</summary>
    public long Chips => Trainer.Cluster.ChipCount + (Settings.Placement == RolloutPlacement.Separate ? Rollout.Cluster.ChipCount : 0);
}
