using ClusterTwin.Economics;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;
using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// Simulates one step of reinforcement-learning post-training from the engines the rest of ClusterTwin validates: the
/// rollout is served request by request (<see cref="ServingSimulator"/>), every response of the step at once; the
/// samples are packed into the trainer's sequences (<see cref="TrainerBatch"/>); the scoring passes and the optimizer
/// steps are the analytical engine's forward passes and training steps on the trainer's layout; and the weights move
/// to the rollout engine (docs/rl-post-training.md).
/// </summary>
public static class ReinforcementSimulator
{
    /// <summary>A forward pass's share of a training step's FLOPs: 2 of the 6 per parameter and token.</summary>
    private const double ForwardShare = 1.0 / 3;

    /// <summary>Simulates one step of <paramref name="scenario"/>.</summary>
    public static ReinforcementStep Run(ReinforcementScenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var settings = scenario.Settings;
        var generation = ServingSimulator.Run(scenario.Rollout, settings.Workload);
        var problems = new List<string>();
        if (generation.Refused > 0)
        {
            problems.Add($"the rollout engine refuses {generation.Refused:N0} of the {settings.Responses:N0} responses: a prompt and its response need more key-value cache than a replica holds ({generation.KeyValueCapacityTokens:N0} tokens); " +
                "give the rollout more chips per replica, a higher memory_utilization or a narrower kv_cache_precision, or shorten the responses");
        }

        // Every sample trains, the samples drawn as the rollout drew them.
        var samples = settings.Workload.Stream().Select(request => request.InputTokens + request.OutputTokens).ToArray();
        var batch = TrainerBatch.Of(samples, settings.Updates, scenario.Trainer.Job.SequenceLength, scenario.Trainer.Plan);
        var trainer = scenario.Trainer with { Job = scenario.Trainer.Job with { GlobalBatchSize = batch.Sequences } };
        var (unbanded, stages) = AnalyticalEngine.StepAndStages(trainer);
        var update = AnalyticalEngine.WithBand(trainer, unbanded);

        // The trainer's problems: a layout that does not divide, and memory beyond its chips' (worded by the result).
        problems.AddRange(update.Problems.Select(problem => $"the trainer: {problem}"));
        var scoring = stages is null ? Duration.Zero : ScoringPass.Time(stages, (long)stages.MicroBatches * settings.Updates) * settings.ScoringPasses;
        var (rewardPass, rewardScoring) = RewardModelPass(trainer, settings, problems);
        scoring += rewardScoring;
        var colocated = settings.Placement == RolloutPlacement.Colocated;
        var weights = colocated
            ? WeightUpdate.Colocated(trainer, scenario.Rollout, settings.WeightUpdateBandwidth)
            : WeightUpdate.Separate(trainer, scenario.Rollout, settings.WeightUpdateBandwidth);
        if (weights is null)
        {
            problems.Add($"the weights cannot reach the rollout engine: {(trainer.Cluster.System.ScaleOutBandwidth is null ? trainer.Cluster.System.Name : scenario.Rollout.Cluster.System.Name)} has no scale-out bandwidth in the catalogue (give rl.weight_update_bandwidth)");
        }

        var offload = colocated && update.Memory is { } held ? Offload(trainer, scenario.Rollout, settings, held.Weights + held.Gradients + held.OptimizerState, problems) : Duration.Zero;
        var step = new ReinforcementStep
        {
            Scenario = scenario with { Trainer = trainer },
            Problems = [.. problems],
            Generation = generation,
            Update = update,
            RewardModelPass = rewardPass,
            SequencesPerUpdate = batch.Sequences,
            Padding = 1 - (batch.Tokens / ((double)batch.Sequences * settings.Updates * trainer.Job.SequenceLength)),
            TrainedTokens = batch.Tokens,
            ScoringTime = scoring,
            WeightUpdateTime = weights ?? Duration.Zero,
            OffloadTime = offload,
        };
        return WithEnergyAndCost(step);
    }

    /// <summary>The reward model's forward pass over the batch on the trainer's layout, where there is one; a problem where the layout cannot hold it.</summary>
    private static (TrainingStepResult? Pass, Duration Time) RewardModelPass(Scenario trainer, ReinforcementSettings settings, List<string> problems)
    {
        if (settings.RewardModel is not { } model)
        {
            return (null, Duration.Zero);
        }

        // The trainer's layout, with no expert parallelism for a dense reward model. It runs forward only, so its memory
        // (weights and one micro-batch's activations, far below a training step's) is not checked.
        var plan = model.MixtureOfExperts is null ? trainer.Plan with { ExpertParallelism = 1 } : trainer.Plan;
        var (pass, stages) = AnalyticalEngine.StepAndStages(trainer with { Model = model, Plan = plan });
        if (!pass.Valid || stages is null)
        {
            problems.AddRange(pass.Problems.Select(problem => $"the reward model {model.Name} on the trainer's layout: {problem}"));
            return (pass, Duration.Zero);
        }

        return (pass, ScoringPass.Time(stages, (long)stages.MicroBatches * settings.Updates));
    }

    /// <summary>The colocated trainer's state to the host and back where the settings move it, or a problem where it must move and cannot.</summary>
    private static Duration Offload(Scenario trainer, ServingDeployment rollout, ReinforcementSettings settings, Bytes policyState, List<string> problems)
    {
        // A critic's state is as large as the policy's (the same model on the same layout).
        var state = policyState * settings.TrainedModels;
        if (WeightUpdate.Offload(state, rollout, settings.Offload) is { } time)
        {
            return time;
        }

        var remedy = settings.Offload == TrainerOffload.Never
            ? "rl.offload is never: lower the rollout's memory_utilization, or let the state offload"
            : $"{trainer.Cluster.System.Name} has no host link to offload them to: lower the rollout's memory_utilization";
        problems.Add($"the trainer's {state} of weights, gradients and optimizer state per chip do not fit beside the rollout engine's {rollout.MemoryUtilization * 100:0.#}% of memory, and {remedy}");
        return Duration.Zero;
    }

    /// <summary>
    /// The step's energy and cost: each pool's chips over the whole step, idle while they wait. The trainer's work is
    /// its optimizer steps (a critic's too) and its scoring passes (a reward model's too), each a forward pass's share
    /// of a training step's FLOPs, memory and link traffic; colocated, the rollout's work runs on the same chips.
    /// </summary>
    private static ReinforcementStep WithEnergyAndCost(ReinforcementStep step)
    {
        if (!step.Valid || step.StepTime.Seconds <= 0)
        {
            return step;
        }

        var scenario = step.Scenario;
        var settings = scenario.Settings;
        var trainer = scenario.Trainer;
        var update = step.Update;
        var steps = (double)settings.Updates * settings.TrainedModels;
        var forwardSteps = settings.Updates * settings.ScoringPasses * ForwardShare;
        var generation = step.Generation;
        var colocated = settings.Placement == RolloutPlacement.Colocated;
        var reward = step.RewardModelPass;
        var rewardSteps = reward is null ? 0 : settings.Updates * ForwardShare;
        var trainerActivity = new StepActivity(step.StepTime,
            (update.HardwareFlopsPerStep * steps) + (update.ModelFlopsPerStep * forwardSteps) + ((reward?.ModelFlopsPerStep ?? Flops.Zero) * rewardSteps) + (colocated ? generation.Work : Flops.Zero),
            (update.MemoryTrafficPerStep * (steps + forwardSteps)) + ((reward?.MemoryTrafficPerStep ?? Bytes.Zero) * rewardSteps) + (colocated ? generation.MemoryTraffic : Bytes.Zero),
            (update.LinkTrafficPerStep * (steps + forwardSteps)) + ((reward?.LinkTrafficPerStep ?? Bytes.Zero) * rewardSteps) + (colocated ? generation.LinkTraffic : Bytes.Zero),
            step.TrainedTokens, (update.ModelFlopsPerStep * (steps + forwardSteps)) + ((reward?.ModelFlopsPerStep ?? Flops.Zero) * rewardSteps));
        var trainerEnergy = EnergyModel.Of(trainer.Cluster, trainer.Job.Precision, trainerActivity, powerUsageEffectiveness: trainer.Cost?.PowerUsageEffectiveness);
        var trainerCost = trainer.Cost is { } prices ? CostModel.Of(prices, trainer.Cluster.ChipCount, trainer.Cluster.SystemCount, step.StepTime, step.StepTime, step.StepTime, step.TrainedTokens, trainerEnergy) : null;
        if (colocated)
        {
            return step with { TrainerEnergy = trainerEnergy, Cost = trainerCost?.PerStep };
        }

        var rollout = scenario.Rollout;
        var rolloutActivity = new StepActivity(step.StepTime, generation.Work, generation.MemoryTraffic, generation.LinkTraffic, generation.OutputTokens, generation.Work);
        var rolloutEnergy = EnergyModel.Of(rollout.Cluster, rollout.WeightFormat.Precision, rolloutActivity, powerUsageEffectiveness: scenario.RolloutCost.PowerUsageEffectiveness);
        var rolloutCost = CostModel.Of(scenario.RolloutCost, rollout.Cluster.ChipCount, rollout.Cluster.SystemCount, step.StepTime, step.StepTime, step.StepTime, Math.Max(1, generation.OutputTokens), rolloutEnergy);
        return step with
        {
            TrainerEnergy = trainerEnergy,
            RolloutEnergy = rolloutEnergy,
            Cost = trainerCost is { } first && rolloutCost is { } second ? first.PerStep + second.PerStep : null,
        };
    }
}
