using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Reinforcement;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using static ClusterTwin.Tests.Reinforcement.ReinforcementScenarios;

namespace ClusterTwin.Tests.Reinforcement;

/// <summary>One step of RL post-training: how its phases compose, on one set of chips or two, on- or off-policy.</summary>
public class ReinforcementStepTests
{
    private static double Sum(ReinforcementStep step) => step.Parts().Sum(part => part.Time.Seconds);

    [Fact]
    public void Colocated_EveryPhaseRunsInTurn_AndThePartsAddUpToTheStep()
    {
        var step = Run(Colocated());
        Assert.True(step.Valid, string.Join("; ", step.Problems));
        var phases = step.GenerationTime + step.ScoringTime + step.TrainingTime + step.WeightUpdateTime + step.OffloadTime;
        Assert.Equal(phases.Seconds, step.StepTime.Seconds, 12);
        Assert.Equal(step.StepTime.Seconds, Sum(step), 9);
        Assert.All(new[] { step.GenerationTime, step.ScoringTime, step.TrainingTime, step.WeightUpdateTime }, part => Assert.True(part.Seconds > 0));
        Assert.True(step.TrainerBusy == 1 && step.RolloutBusy == 1, "colocated, the same chips do every phase");
    }

    [Fact]
    public void OneStepOffPolicy_OverlapsTheRolloutWithTraining_AndIsNeverSlowerThanOnPolicy()
    {
        var onPolicy = Run(Separate());
        var offPolicy = Run(Separate("  off_policy: 1\n"));
        Assert.True(onPolicy.Valid && offPolicy.Valid);
        Assert.Equal(onPolicy.GenerationTime, offPolicy.GenerationTime);
        Assert.Equal(onPolicy.TrainerTime, offPolicy.TrainerTime);
        Assert.Equal((onPolicy.GenerationTime + onPolicy.TrainerTime + onPolicy.WeightUpdateTime).Seconds, onPolicy.StepTime.Seconds, 12);
        Assert.Equal((Duration.Max(offPolicy.GenerationTime, offPolicy.TrainerTime) + offPolicy.WeightUpdateTime).Seconds, offPolicy.StepTime.Seconds, 12);
        Assert.True(offPolicy.StepTime < onPolicy.StepTime);
        Assert.Equal(offPolicy.StepTime.Seconds, Sum(offPolicy), 9);
        Assert.Equal(onPolicy.StepTime.Seconds, Sum(onPolicy), 9);

        // Separate pools wait for each other on-policy: neither is busy the whole step, and off-policy the slower one is.
        Assert.True(onPolicy.TrainerBusy < 1 && onPolicy.RolloutBusy < 1);
        Within.Relative((onPolicy.GenerationTime + onPolicy.WeightUpdateTime) / onPolicy.StepTime, onPolicy.RolloutBusy, 1e-12);
        Assert.Equal(1, Math.Max(offPolicy.TrainerBusy, offPolicy.RolloutBusy));
    }

    [Fact]
    public void TheScoringPasses_AreForwardPassesOverTheBatch_OnePerModelScored()
    {
        var both = Run(Colocated());
        var policyOnly = Run(Colocated("  reference_model: false\n"));
        var none = Run(Colocated("  reference_model: false\n  recompute_log_probs: false\n"));
        Assert.Equal(2, both.Scenario.Settings.ScoringPasses);
        Assert.Equal(both.ScoringTime.Seconds, 2 * policyOnly.ScoringTime.Seconds, 12);
        Assert.Equal(Duration.Zero, none.ScoringTime);
        Assert.Equal(both.TrainingTime, none.TrainingTime);

        // A forward pass over the batch costs less than the optimizer steps over it (forward and backward).
        Assert.True(policyOnly.ScoringTime < policyOnly.TrainingTime / 2);
    }

    [Fact]
    public void ACritic_ScoresTheBatchOnceMore_AndTrainsAsLongAsThePolicy()
    {
        var grpo = Run(Colocated());
        var ppo = Run(Colocated("  critic: true\n"));
        Assert.Equal(3, ppo.Scenario.Settings.ScoringPasses);
        Assert.Equal(2 * grpo.TrainingTime.Seconds, ppo.TrainingTime.Seconds, 12);
        Assert.Equal(1.5 * grpo.ScoringTime.Seconds, ppo.ScoringTime.Seconds, 12);
    }

    [Fact]
    public void TheTrainer_TrainsOnEverySample_PackedWholeIntoSequencesItsLayoutDivides()
    {
        var step = Run(Colocated());
        var generation = step.Generation;
        Assert.Equal(0, generation.Refused);
        Assert.Equal(generation.InputTokens + generation.OutputTokens, step.TrainedTokens);
        var plan = step.Scenario.Trainer.Plan;
        Assert.Equal(0, step.SequencesPerUpdate % (plan.DataParallelism * plan.MicroBatchSize));
        Assert.Equal(step.SequencesPerUpdate, step.Scenario.Trainer.Job.GlobalBatchSize);
        var perUpdate = step.TrainedTokens / (double)step.Scenario.Settings.Updates / step.Scenario.Trainer.Job.SequenceLength;
        Assert.True(step.SequencesPerUpdate >= perUpdate, $"{step.SequencesPerUpdate} sequences hold {perUpdate:0.0} sequences' tokens");
        Assert.InRange(step.Padding, 0, 0.5);
        Assert.Equal(1 - (step.TrainedTokens / ((double)step.SequencesPerUpdate * step.Scenario.Settings.Updates * step.Scenario.Trainer.Job.SequenceLength)), step.Padding, 12);
    }

    [Fact]
    public void LongerResponses_TakeLongerToGenerate_AndToTrainOn()
    {
        var shorter = Run(Colocated());
        var longer = Run(Colocated().Replace("{median: 300, spread: 0.7, range: [8, 1536]}", "{median: 600, spread: 0.7, range: [16, 1536]}", StringComparison.Ordinal));
        Assert.True(longer.GenerationTime > shorter.GenerationTime);
        Assert.True(longer.TrainedTokens > shorter.TrainedTokens);
        Assert.True(longer.TrainingTime >= shorter.TrainingTime);
    }

    [Fact]
    public void TheSameScenario_GivesTheSameStep_BitForBit_AndTheSeedChangesTheDraws()
    {
        var first = Run(Colocated());
        var again = Run(Colocated());
        var reseeded = Run(Colocated("  seed: 7\n"));
        Assert.Equal(first.StepTime.Seconds, again.StepTime.Seconds);
        Assert.Equal(first.TrainedTokens, again.TrainedTokens);
        Assert.NotEqual(first.TrainedTokens, reseeded.TrainedTokens);
    }

    [Fact]
    public void TheBand_HoldsTheStep_WideningOnlyTheTrainersPhases()
    {
        var step = Run(Colocated());
        Assert.True(step.StepTimeLow < step.StepTime && step.StepTime < step.StepTimeHigh);
        var low = step.StepTime - step.StepTimeLow;
        Assert.Equal((step.TrainerTime * (1 - (step.Update.StepTimeLow / step.Update.StepTime))).Seconds, low.Seconds, 9);
    }

    [Fact]
    public void EnergyAndCost_CountEveryChipTheRunHolds_ForTheWholeStep()
    {
        var colocated = Run(Colocated());
        var separate = Run(Separate());
        Assert.NotNull(colocated.Energy);
        Assert.NotNull(separate.Energy);
        Assert.NotNull(separate.RolloutEnergy);

        // Chips draw at least their idle power over the whole step, waiting included.
        var idle = colocated.Scenario.Trainer.Cluster.Chip.Power!.Idle.Value;
        Assert.True(separate.RolloutEnergy!.ItPerStep.Joules > idle.Watts * separate.StepTime.Seconds * separate.Scenario.Rollout.Cluster.ChipCount);

        // Rented by the instance, the cost is the chips held over the step at the catalogue's price.
        var prices = separate.Scenario.Trainer.Cost!.Rental!;
        Within.Relative(prices.PerChip.DollarsPerSecond * separate.StepTime.Seconds * separate.Scenario.Chips, separate.Cost!.Value.Dollars, 1e-9);
    }

    [Fact]
    public void AForwardOnlyPipeline_CrossesEveryRankOnce_ThenAddsTheSlowestRankPerMicroBatch()
    {
        var ranks = ImmutableArray.Create(new RankWork(Duration.FromSeconds(1), Duration.FromSeconds(2)), new RankWork(Duration.FromSeconds(2), Duration.FromSeconds(4)), new RankWork(Duration.FromSeconds(1), Duration.FromSeconds(2)));
        var stages = new PipelineStages(ranks, 1, 4, Duration.FromSeconds(0.1), false, Duration.Zero, 1.5);
        Assert.Equal((1 + 2 + 1 + (3 * 2) + (2 * 0.1)) * 1.5, ScoringPass.Time(stages, 4).Seconds, 12);
        Assert.Equal((4 + 0.2) * 1.5, ScoringPass.Time(stages, 1).Seconds, 12);
    }

    [Fact]
    public void ARewardModel_ScoresTheBatchOnce_AtItsOwnModelsCost()
    {
        var rule = Run(Colocated("  reference_model: false\n"));
        var sameModel = Run(Colocated("  reference_model: false\n  reward_model: llama3-8b\n"));
        var smaller = Run(Colocated("  reference_model: false\n  reward_model: llama2-7b\n"));

        // The policy's own model as the reward model costs one more policy pass; a smaller one less.
        Assert.Equal(2 * rule.ScoringTime.Seconds, sameModel.ScoringTime.Seconds, 9);
        Assert.True(smaller.ScoringTime > rule.ScoringTime && smaller.ScoringTime < sameModel.ScoringTime);
        Assert.Equal(rule.TrainingTime, sameModel.TrainingTime);
        Assert.True(sameModel.Energy!.Value.Joules > rule.Energy!.Value.Joules);
        using var folder = new TemporaryFolder();
        Assert.Contains("the rewards of", CliRunner.Run("rl", folder.Write("rl.yaml", Colocated("  reward_model: llama3-8b\n"))).Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ADenseRewardModel_ScoresAMixtureOfExpertsPolicysSamples_WithoutItsExpertParallelism()
    {
        // Qwen3-30B-A3B trains at expert parallelism 8; Llama 3.1 8B, dense, scores its samples on the same chips.
        var policy = File.ReadAllText(Repository.Path("examples", "rl", "nemo-rl-v0.4", "qwen3-30b-a3b-on-policy.yaml"));
        var rule = Run(policy);
        var rewarded = Run(policy.Replace("  steps: 200\n", "  steps: 200\n  reward_model: llama3-8b\n", StringComparison.Ordinal));
        Assert.True(rewarded.Valid, string.Join("; ", rewarded.Problems));
        Assert.NotNull(rewarded.RewardModelPass);
        Assert.True(rewarded.ScoringTime > rule.ScoringTime);
        Assert.Equal(rule.TrainingTime, rewarded.TrainingTime);
    }

    [Fact]
    public void ARewardModelTheLayoutCannotSplit_IsAProblem()
    {
        // Sixteen pipeline stages hold Llama 3.1 8B's 32 layers, not MPT-125M's 12.
        var text = Colocated("  reward_model: mpt-125m\n", plan: "tensor: 1, pipeline: 16, micro_batch: 1").Replace("count: 1", "count: 2", StringComparison.Ordinal);
        var step = Run(text);
        Assert.False(step.Valid);
        Assert.StartsWith("the reward model MosaicML MPT-125m (llm-foundry benchmark configuration) on the trainer's layout: ", Assert.Single(step.Problems), StringComparison.Ordinal);
    }
}
