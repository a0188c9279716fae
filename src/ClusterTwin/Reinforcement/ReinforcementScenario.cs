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
    /// <summary>A step time measured on the scenario's configuration, and where it was published; null where none is given.</summary>
    public PublishedStep? Published { get; init; }

    /// <summary>Chips the run holds: the trainer's, and the rollout engine's where it has its own.</summary>
    public long Chips => Trainer.Cluster.ChipCount + (Settings.Placement == RolloutPlacement.Separate ? Rollout.Cluster.ChipCount : 0);
}

/// <summary>A step time measured on a scenario's configuration: a comparison, not a calibration (docs/rl-post-training.md).</summary>
/// <param name="StepTime">The measured step.</param>
/// <param name="Source">Where it was published: document, table, version, date.</param>
public sealed record PublishedStep(Units.Duration StepTime, string Source);
