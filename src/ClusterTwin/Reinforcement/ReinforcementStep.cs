using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Engines;
using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>What one step of reinforcement-learning post-training takes, phase by phase, and what it holds the chips for.</summary>
public sealed record ReinforcementStep
{
    /// <summary>The name of the generation among <see cref="Parts"/>.</summary>
    public const string GenerationPart = "generation";

    /// <summary>The scenario.</summary>
    public required ReinforcementScenario Scenario { get; init; }

    /// <summary>Why the step cannot run as given (a trainer layout that does not divide or fit, a response the rollout engine cannot hold); empty when it can.</summary>
    public ImmutableArray<string> Problems { get; init; } = [];

    /// <summary>Whether the step runs: no problems.</summary>
    public bool Valid => Problems.IsEmpty;

    /// <summary>The rollout: every response of the step served at once, request by request.</summary>
    public required ServingResult Generation { get; init; }

    /// <summary>One optimizer step of the trainer on one mini-batch, as <c>simulate</c> costs it.</summary>
    public required TrainingStepResult Update { get; init; }

    /// <summary>The reward model's forward pass as a training step on the trainer's layout (for its work); null without a reward model.</summary>
    public TrainingStepResult? RewardModelPass { get; init; }

    /// <summary>Sequences the trainer packs each mini-batch into, rounded up to what its layout divides and its pipeline schedule runs.</summary>
    public required int SequencesPerUpdate { get; init; }

    /// <summary>The share of the packed sequences' tokens that are padding: from packing whole samples and from rounding to the layout.</summary>
    public required double Padding { get; init; }

    /// <summary>Prompt and response tokens the step trains on.</summary>
    public required long TrainedTokens { get; init; }

    /// <summary>From the batch's start to its last response.</summary>
    public Duration GenerationTime => Generation.Makespan;

    /// <summary>The forward passes that score the batch before training: <see cref="ReinforcementSettings.ScoringPasses"/> of the policy's model, and a reward model's where there is one.</summary>
    public required Duration ScoringTime { get; init; }

    /// <summary>The optimizer steps: <see cref="ReinforcementSettings.Updates"/> times <see cref="Update"/>'s step, for the policy and for a critic where there is one.</summary>
    public Duration TrainingTime => Update.StepTime * ((long)Scenario.Settings.Updates * Scenario.Settings.TrainedModels);

    /// <summary>Moving the trained weights to the rollout engine.</summary>
    public required Duration WeightUpdateTime { get; init; }

    /// <summary>Colocated: the trainer's state to the host and back around the rollout, where both do not fit at once.</summary>
    public required Duration OffloadTime { get; init; }

    /// <summary>
    /// The step: on-policy, every phase one after the other; one step off-policy, the rollout of the next batch runs
    /// beside the scoring and training of this one, and the weight update follows the later of the two.
    /// </summary>
    public Duration StepTime => Compose(TrainerTime);

    /// <summary>The step's low end: the trainer's phases at the low end of the training step's band (the rollout has none).</summary>
    public Duration StepTimeLow => Compose(TrainerTime * TrainerBand(Update.StepTimeLow));

    /// <summary>The step's high end: the trainer's phases at the high end of the training step's band.</summary>
    public Duration StepTimeHigh => Compose(TrainerTime * TrainerBand(Update.StepTimeHigh));

    /// <summary>What the trainer's chips spend training a batch: scoring it and the optimizer steps.</summary>
    public Duration TrainerTime => ScoringTime + TrainingTime;

    /// <summary>The step's parts, which add up to <see cref="StepTime"/>; one step off-policy, the generation's overlap with the trainer's phases is a negative part.</summary>
    public IEnumerable<(string Name, Duration Time)> Parts()
    {
        yield return (GenerationPart, GenerationTime);
        yield return ("scoring passes", ScoringTime);
        yield return ("training", TrainingTime);
        yield return ("weight update", WeightUpdateTime);
        yield return ("trainer state offload", OffloadTime);
        if (Scenario.Settings.OffPolicySteps > 0)
        {
            // Off-policy the two overlap: the overlap is taken back out so that the parts add up to the step.
            yield return ("overlap of generation with training", Duration.Zero - Duration.Min(GenerationTime, TrainerTime));
        }
    }

    /// <summary>
    /// The share of the step the trainer's chips work: colocated, all of it (every phase runs on them); on separate
    /// pools, scoring, training and sending the weights.
    /// </summary>
    public double TrainerBusy => Scenario.Settings.Placement == RolloutPlacement.Colocated ? 1 : Share(TrainerTime + WeightUpdateTime);

    /// <summary>The share of the step the rollout engine's chips work: colocated, all of it; on separate pools, generating and receiving the weights.</summary>
    public double RolloutBusy => Scenario.Settings.Placement == RolloutPlacement.Colocated ? 1 : Share(GenerationTime + WeightUpdateTime);

    /// <summary>The share of the step spent generating.</summary>
    public double GenerationShare => Share(GenerationTime);

    /// <summary>Tokens generated per second over the step.</summary>
    public double GeneratedTokensPerSecond => StepTime.Seconds > 0 ? Generation.OutputTokens / StepTime.Seconds : 0;

    /// <summary>Tokens trained per second over the step, per chip the run holds (NeMo-RL's tokens per second per GPU).</summary>
    public double TrainedTokensPerSecondPerChip => StepTime.Seconds > 0 ? TrainedTokens / StepTime.Seconds / Scenario.Chips : 0;

    /// <summary>The trainer's chips' energy over a step, idle while they wait (colocated, the rollout's work on them too); null where the catalogue cannot price it.</summary>
    public StepEnergy? TrainerEnergy { get; init; }

    /// <summary>The rollout engine's chips' energy over a step, idle while they wait (separate placement); null colocated, where <see cref="TrainerEnergy"/> holds both.</summary>
    public StepEnergy? RolloutEnergy { get; init; }

    /// <summary>The IT energy of a step over every chip the run holds; null where a pool cannot be priced.</summary>
    public Energy? Energy => TrainerEnergy is not { } trainer ? null
        : Scenario.Settings.Placement == RolloutPlacement.Colocated ? trainer.ItPerStep
        : RolloutEnergy is { } rollout ? trainer.ItPerStep + rollout.ItPerStep : null;

    /// <summary>The cost of a step on every chip the run holds; null where a pool has no price.</summary>
    public Money? Cost { get; init; }

    /// <summary>The IT energy of a step per prompt and response token it trains on; null where a pool cannot be priced.</summary>
    public Energy? EnergyPerTrainedToken => Energy / Math.Max(1, TrainedTokens);

    /// <summary>The cost of a million trained tokens; null where a pool has no price.</summary>
    public Money? CostPerMillionTrainedTokens => Cost * (1e6 / Math.Max(1, TrainedTokens));

    /// <summary>The run's time: <see cref="ReinforcementSettings.Steps"/> steps; null where none is given.</summary>
    public Duration? RunTime => Scenario.Settings.Steps is { } steps ? StepTime * steps : null;

    private Duration Compose(Duration trainer) => Scenario.Settings.OffPolicySteps > 0
        ? Duration.Max(GenerationTime, trainer) + WeightUpdateTime
        : GenerationTime + trainer + WeightUpdateTime + OffloadTime;

    // The band's end over the centre; 1 where the training step has no band (not valid).
    private double TrainerBand(Duration end) => Update.StepTime.Seconds > 0 && end.Seconds > 0 ? end / Update.StepTime : 1;

    private double Share(Duration part) => StepTime.Seconds > 0 ? Math.Min(1, part / StepTime) : 0;
}
