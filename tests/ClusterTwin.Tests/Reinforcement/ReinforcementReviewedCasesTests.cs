using ClusterTwin.Parallelism;
using ClusterTwin.Reinforcement;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using static ClusterTwin.Tests.Reinforcement.ReinforcementScenarios;

namespace ClusterTwin.Tests.Reinforcement;

/// <summary>
/// The cases a review of <c>clustertwin rl</c> found unhandled: a critic's energy, trainers whose schedule needs more
/// micro-batches, mini-batches that do not divide the samples, where the trainer's ranks sit, measured weight-update
/// rates, and bad published steps and pools.
/// </summary>
public class ReinforcementReviewedCasesTests
{
    [Fact]
    public void ACritic_TrainsOnTheChips_SoItsWorkIsInTheEnergy()
    {
        var grpo = Run(Colocated());
        var ppo = Run(Colocated("  critic: true\n"));

        // The critic's optimizer steps and scoring pass add energy beyond the longer step's idle power.
        var idle = grpo.Scenario.Trainer.Cluster.Chip.Power!.Idle.Value;
        var chips = grpo.Scenario.Chips;
        var beyondIdle = (ppo.Energy!.Value - grpo.Energy!.Value).Joules - (idle.Watts * chips * (ppo.StepTime - grpo.StepTime).Seconds);
        Assert.True(beyondIdle > 0, $"{beyondIdle:0} J beyond idle");
        Assert.True(ppo.TrainerEnergy!.AveragePowerPerChip.Watts >= grpo.TrainerEnergy!.AveragePowerPerChip.Watts * 0.99);
    }

    [Theory]
    [InlineData("tensor: 1, pipeline: 2, micro_batch: 1, virtual_stages: 2", 2)]
    [InlineData("tensor: 2, pipeline: 2, micro_batch: 1, schedule: dualpipe", 2)]
    [InlineData("tensor: 2, pipeline: 4, micro_batch: 1, schedule: dualpipe", 4)]
    public void ATrainerWhoseScheduleNeedsMoreMicroBatches_GetsThem(string plan, int pipeline)
    {
        // Eight responses in four mini-batches: two samples each, one micro-batch per replica before rounding.
        var text = Colocated(plan: plan).Replace("prompts: 16", "prompts: 2", StringComparison.Ordinal).Replace("samples: 8", "samples: 4", StringComparison.Ordinal)
            .Replace("updates: 2", "updates: 4", StringComparison.Ordinal);
        var step = Run(text);
        Assert.True(step.Valid, string.Join("; ", step.Problems));
        var trainer = step.Scenario.Trainer;
        var microBatches = trainer.Job.GlobalBatchSize / (trainer.Plan.DataParallelism * trainer.Plan.MicroBatchSize);
        Assert.Null(PipelineScheduleKeys.Problem(trainer.Plan.Schedule, pipeline, trainer.Plan.VirtualStages, microBatches));
        Assert.Equal(trainer.Plan.Schedule == PipelineScheduleKind.DualPipe ? 2 * pipeline : pipeline, microBatches);
    }

    [Theory]
    [InlineData(10, 6, new[] { 1, 2, 2, 1, 2, 2 })]
    [InlineData(10, 3, new[] { 3, 3, 4 })]
    [InlineData(2048, 1000, null)]
    public void MiniBatches_AreAsEvenAsWholeSamplesAllow_NeverEmpty(int count, int updates, int[]? sizes)
    {
        var ranges = TrainerBatch.MiniBatches(count, updates).ToArray();
        Assert.Equal(updates, ranges.Length);
        var lengths = ranges.Select(range => range.GetOffsetAndLength(count).Length).ToArray();
        Assert.All(lengths, length => Assert.InRange(length, count / updates, (count / updates) + 1));
        Assert.Equal(count, lengths.Sum());
        if (sizes is not null)
        {
            Assert.Equal(sizes, lengths);
        }
    }

    [Fact]
    public void Colocated_PipelineStagesOnOtherSystems_SendTheWeightsOverTheScaleOutFabric()
    {
        // Tensor 1, pipeline 2 over two DGX H100: under tensor-data-pipeline order the stages are 8 ranks apart, a
        // system apart; under tensor-pipeline-data they are neighbours in one system.
        var twoSystems = Colocated().Replace("count: 1", "count: 2", StringComparison.Ordinal);
        var apart = Load(twoSystems);
        var together = Load(twoSystems.Replace("tensor: 1, pipeline: 2, micro_batch: 1", "tensor: 1, pipeline: 2, micro_batch: 1, order: tensor-pipeline-data", StringComparison.Ordinal));
        Assert.Equal((1, 1), WeightUpdate.SplitInDomain(apart.Trainer));
        Assert.Equal((1, 2), WeightUpdate.SplitInDomain(together.Trainer));
        var overFabric = WeightUpdate.Colocated(apart.Trainer, apart.Rollout);
        var overLinks = WeightUpdate.Colocated(together.Trainer, together.Rollout);
        Assert.True(overFabric > overLinks * 5, $"{overFabric} over the fabric, {overLinks} over NVLink");

        // Half the model (the other stage's) through a 400 Gb/s adapter at the fabric's efficiency.
        var adapter = apart.Trainer.Cluster.System.ScaleOutBandwidth!.Value * apart.Trainer.Cluster.Fabric.Efficiency.Value;
        Within.Relative((apart.Rollout.ModelWeightsPerChip / 2 / adapter).Seconds, (overFabric - apart.Trainer.Cluster.SendLatency(true)).Seconds, 1e-9);
    }

    [Theory]
    [InlineData("tensor: 2, pipeline: 1, zero: 3", 8, 1)]               // the 8 data ranks 2 apart: 4 of them, 2 chips each
    [InlineData("tensor: 2, context: 2, pipeline: 1, zero: 3", 8, 1)]   // the same 8 shards, context ranks 2 apart
    [InlineData("tensor: 2, pipeline: 2", 2, 1)]                        // 4 data ranks: the stages 8 ranks apart, a DGX apart
    [InlineData("tensor: 2, pipeline: 2, order: tensor-pipeline-data", 2, 2)]   // the stages 2 ranks apart
    [InlineData("tensor: 8, pipeline: 2", 8, 1)]                        // a whole DGX per tensor group: the other stage on the other
    public void TheSplitInADomain_FollowsTheRankOrdersStrides(string plan, long width, long stages)
    {
        var text = Colocated(plan: plan + ", micro_batch: 1").Replace("count: 1", "count: 2", StringComparison.Ordinal);
        Assert.Equal((width, stages), WeightUpdate.SplitInDomain(Load(text).Trainer));
    }

    [Fact]
    public void Colocated_ASliceHeldOnlyInAnotherSystem_ComesOverTheFabric_AndOneHeldByATensorPeer_OverTheLinks()
    {
        // Llama 3.1 70B, tensor 8 x pipeline 2 on 8 DGX H100, rollout tensor 8: the missing half of each chip's slice
        // is its counterpart's in the other stage, 32 ranks (four systems) away.
        var across = ScenarioLoad(Repository.Path("examples", "rl", "llama3-70b-64-chips", "h100.yaml"));
        var adapter = across.Trainer.Cluster.System.ScaleOutBandwidth!.Value * across.Trainer.Cluster.Fabric.Efficiency.Value;
        var expected = (across.Rollout.ModelWeightsPerChip / 2 / adapter) + across.Trainer.Cluster.SendLatency(true);
        Within.Relative(expected.Seconds, WeightUpdate.Colocated(across.Trainer, across.Rollout).Seconds, 1e-12);

        // Trainer tensor 8, rollout tensor 4 in one DGX: the other half of the slice is on a tensor peer beside it.
        var beside = Load(Colocated(plan: "tensor: 8, pipeline: 1, micro_batch: 1").Replace("tensor: 1, max_batch", "tensor: 4, max_batch", StringComparison.Ordinal));
        var links = beside.Trainer.Cluster.System.ScaleUpBandwidth.Value.PerDirection;
        Within.Relative(((beside.Rollout.ModelWeightsPerChip / 2 / links) + beside.Trainer.Cluster.SendLatency(false)).Seconds, WeightUpdate.Colocated(beside.Trainer, beside.Rollout).Seconds, 1e-12);
    }

    private static ReinforcementScenario ScenarioLoad(string path) => ClusterTwin.Catalog.ScenarioLoader.LoadReinforcement(path, Repository.Catalog);

    [Theory]
    [InlineData("tensor: 2, expert: 8, pipeline: 1", 1, 8)]      // routed experts whole on each of the 8 expert ranks
    [InlineData("tensor: 2, expert: 1, pipeline: 4", 1, 8)]      // 2 x 4
    [InlineData("tensor: 2, expert: 1, pipeline: 1, zero: 3", 2, 16)]  // ZeRO-3: the 8 data ranks shard the tensor group's weights
    [InlineData("tensor: 2, expert: 1, pipeline: 1", 2, 2)]
    public void TheSplit_IsThePipelineTimesTheWiderOfTheTensorAndExpertGroups(string plan, int systems, long split)
    {
        var text = Colocated(plan: plan + ", micro_batch: 1").Replace("model: llama3-8b", "model: qwen3-30b-a3b", StringComparison.Ordinal)
            .Replace("count: 1", $"count: {systems}", StringComparison.Ordinal).Replace("tensor: 1, max_batch", "tensor: 2, max_batch", StringComparison.Ordinal);
        Assert.Equal(split, WeightUpdate.SplitChips(Load(text).Trainer));
    }

    [Fact]
    public void AMeasuredWeightUpdateRate_ReplacesTheLinks()
    {
        var separate = Run(Separate("  weight_update_bandwidth: 4 GB/s\n"));
        Within.Relative(separate.Scenario.Rollout.ModelWeightsPerChip.Count / 4e9, separate.WeightUpdateTime.Seconds, 1e-12);
        var colocated = Run(Colocated("  weight_update_bandwidth: 1 GB/s\n"));
        var split = WeightUpdate.SplitChips(colocated.Scenario.Trainer);
        Within.Relative(colocated.Scenario.Rollout.ModelWeightsPerChip.Count * (1 - (1.0 / split)) / 1e9, colocated.WeightUpdateTime.Seconds, 1e-12);
    }

    [Fact]
    public void AColocatedTrainerThatMustOffload_OnASystemWithoutAHostLink_IsAProblem()
    {
        var text = Colocated(serving: ", memory_utilization: 0.9").Replace("nvidia-dgx-h100, count: 1, fabric: infiniband-ndr-fat-tree", "aws-trn2-ultraserver, count: 1, fabric: aws-efa-ultracluster", StringComparison.Ordinal)
            .Replace("framework: megatron-core", "framework: neuronx-distributed", StringComparison.Ordinal).Replace("framework: vllm-0.6, ", string.Empty, StringComparison.Ordinal);
        var step = Run(text);
        Assert.False(step.Valid);
        Assert.Contains("has no host link to offload them to", string.Join("; ", step.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("published: {step: 0 s, source: a test}\n", "published.step", "0 s is not a measured step")]
    [InlineData("published: {step: 90 s}\n", "published.source", "missing")]
    [InlineData("published: {step: 90 s, source: a test, note: x}\n", "published.note", "unknown field")]
    [InlineData("  steps: 2.5\n", "rl.steps", "2.5")]
    public void BadPublishedStepsAndRunLengths_AreReportedByField(string added, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var text = added.StartsWith("published", StringComparison.Ordinal) ? Colocated() + added : Colocated(added);
        var outcome = CliRunner.Run("rl", folder.Write("rl.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "rl.yaml", field, reason);
    }

    [Fact]
    public void APublishedStep_IsSetBesideThePrediction()
    {
        var scenario = Load(Colocated() + "published: {step: 90 s, source: a test}\n");
        Assert.Equal(new PublishedStep(Duration.FromSeconds(90), "a test"), scenario.Published);
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("rl", folder.Write("rl.yaml", Colocated() + "published: {step: 90 s, source: a test}\n"));
        Assert.Contains("Published: 90 s a step (a test): the prediction is", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void SeparatePoolsOnASystemWithoutScaleOut_AreRefused_UnlessARateIsGiven()
    {
        // TPU v4 cubes: 64 chips on ICI, no scale-out bandwidth in the catalogue.
        var text = Separate().Replace("system: nvidia-dgx-h100, count: 1, fabric: infiniband-ndr-fat-tree}\n  training", "system: google-tpu-v4-cube, count: 1}\n  training", StringComparison.Ordinal)
            .Replace("framework: megatron-core", "framework: maxtext", StringComparison.Ordinal);
        using var folder = new TemporaryFolder();
        var refused = CliRunner.Run("rl", folder.Write("rl.yaml", text));
        Assert.Equal(2, refused.ExitCode);
        Reported.AtField(refused, "rl.yaml", "trainer.cluster.system", "has no scale-out bandwidth in the catalogue");
        Assert.NotEqual(2, CliRunner.Run("rl", folder.Write("rated.yaml", text + "  weight_update_bandwidth: 2 GB/s\n")).ExitCode);
    }

    [Fact]
    public void TheHelpExample_Exists() =>
        Assert.True(File.Exists(Repository.Path("examples", "rl", "nemo-rl-v0.4", "llama3-8b-on-policy.yaml")));
}
