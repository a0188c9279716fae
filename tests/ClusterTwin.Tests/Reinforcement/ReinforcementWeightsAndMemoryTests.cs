using ClusterTwin.Reinforcement;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using static ClusterTwin.Tests.Reinforcement.ReinforcementScenarios;

namespace ClusterTwin.Tests.Reinforcement;

/// <summary>Moving the trained weights to the rollout engine, and a colocated trainer's state out of its way.</summary>
public class ReinforcementWeightsAndMemoryTests
{
    [Fact]
    public void SeparatePools_SendEachRolloutChipItsSlice_OverTheScaleOutFabric()
    {
        var bf16 = Run(Separate());
        var fp8 = Run(Separate(serving: ", precision: fp8"));
        var latency = bf16.Scenario.Trainer.Cluster.SendLatency(acrossSystems: true);

        // Each chip of a tensor-1 replica holds the whole model: 8B parameters at 2 bytes over a 400 Gb/s adapter.
        var rollout = bf16.Scenario.Rollout;
        var adapter = rollout.Cluster.System.ScaleOutBandwidth!.Value * rollout.Cluster.Fabric.Efficiency.Value;
        Within.Relative((rollout.WeightsPerChip / adapter).Seconds, (bf16.WeightUpdateTime - latency).Seconds, 1e-9);
        Within.Relative(rollout.Model.Parameters * 2, rollout.WeightsPerChip.Count, 0.02);

        // Half the bytes at FP8, half the time.
        Within.Relative((bf16.WeightUpdateTime - latency).Seconds / 2, (fp8.WeightUpdateTime - latency).Seconds, 1e-9);
    }

    [Fact]
    public void Colocated_EveryChipGathersTheModel_FromTheChipsTheTrainerShardsItOver()
    {
        var sharded = Run(Colocated(plan: "tensor: 2, pipeline: 2, micro_batch: 1"));
        var lessSharded = Run(Colocated(plan: "tensor: 1, pipeline: 2, micro_batch: 1"));
        var whole = Run(Colocated(plan: "tensor: 1, pipeline: 1, micro_batch: 1, zero: 1"));
        Assert.True(sharded.Valid && lessSharded.Valid && whole.Valid, string.Join("; ", sharded.Problems.Concat(lessSharded.Problems).Concat(whole.Problems)));

        // An all-gather of the whole model: more of it arrives the more chips share it, and nothing where each chip holds it all.
        Assert.True(sharded.WeightUpdateTime > lessSharded.WeightUpdateTime);
        Assert.Equal(Duration.Zero, whole.WeightUpdateTime);

        // Inside one NVLink domain it takes far less than the same bytes over the scale-out adapter.
        var separate = Run(Separate());
        Assert.True(lessSharded.WeightUpdateTime < separate.WeightUpdateTime / 4);
    }

    [Fact]
    public void Colocated_TheTrainersStateMovesToTheHost_WhereItDoesNotFitBesideTheRollout()
    {
        var roomy = Run(Colocated(serving: ", memory_utilization: 0.5"));
        var crowded = Run(Colocated(serving: ", memory_utilization: 0.9"));
        var always = Run(Colocated("  offload: always\n", ", memory_utilization: 0.5"));
        Assert.Equal(Duration.Zero, roomy.OffloadTime);
        Assert.True(crowded.OffloadTime.Seconds > 0);
        Assert.Equal(crowded.OffloadTime.Seconds, always.OffloadTime.Seconds, 12);

        // Out and back over the host link: twice the weights, gradients and optimizer state per chip.
        var memory = always.Update.Memory!;
        var state = memory.Weights + memory.Gradients + memory.OptimizerState;
        var link = always.Scenario.Trainer.Cluster.System.OffloadBandwidth!.Value;
        Within.Relative((state * 2 / link).Seconds, always.OffloadTime.Seconds, 1e-12);

        // A critic's state moves too.
        var critic = Run(Colocated("  offload: always\n  critic: true\n", ", memory_utilization: 0.5"));
        Within.Relative(2 * always.OffloadTime.Seconds, critic.OffloadTime.Seconds, 1e-12);
    }

    [Fact]
    public void Colocated_AStateThatMayNotMove_AndDoesNotFit_IsAProblem()
    {
        var step = Run(Colocated("  offload: never\n", ", memory_utilization: 0.9"));
        Assert.False(step.Valid);
        Assert.Contains("do not fit beside the rollout engine's 90% of memory", Assert.Single(step.Problems), StringComparison.Ordinal);
    }

    [Fact]
    public void ResponsesLongerThanAReplicasCache_AreAProblem_NotAShortStep()
    {
        // 100,000-token prompts against a cache of about 60,000 tokens (a third of 80 GB less 16 GB of weights).
        var text = Colocated(serving: ", memory_utilization: 0.3").Replace("prompt_tokens: [32, 256]", "prompt_tokens: 100000", StringComparison.Ordinal)
            .Replace("sequence_length: 2048", "sequence_length: 131072", StringComparison.Ordinal);
        var step = Run(text);
        Assert.False(step.Valid);
        Assert.Contains("the rollout engine refuses", string.Join("; ", step.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { 3, 3, 3, 3 }, 6, 2)]
    [InlineData(new[] { 5, 4, 3, 2, 1 }, 6, 3)]
    [InlineData(new[] { 6, 6, 6 }, 6, 3)]
    [InlineData(new[] { 1 }, 6, 1)]
    [InlineData(new[] { 4, 4, 3, 3, 2, 2 }, 10, 2)]
    public void Packing_PutsWholeSamplesInTheFewestSequences(int[] samples, int length, int sequences) =>
        Assert.Equal(sequences, SamplePacking.Sequences(samples, length));

    [Fact]
    public void Packing_ManySamples_ComesCloseToTheirTokensOverTheLength()
    {
        var random = new Random(3);
        var samples = Enumerable.Range(0, 5000).Select(_ => random.Next(20, 3000)).ToArray();
        var least = (int)Math.Ceiling(samples.Sum() / 4096.0);
        Assert.InRange(SamplePacking.Sequences(samples, 4096), least, (int)(least * 1.02) + 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => SamplePacking.Sequences([4097], 4096));
    }
}
