using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Tests.Support;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Engines;

public class ContextParallelismTests
{
    /// <summary>Llama 3 70B at 32K tokens on 16 Trn2 UltraServers: long enough for context parallelism to matter.</summary>
    private static ClusterTwin.Scenarios.Scenario LongSequence(int context) =>
        Repository.Example("llama3-70b-trn2-ultraserver") is var scenario
            ? scenario with
            {
                Job = scenario.Job with { SequenceLength = 32768, GlobalBatchSize = 64 },
                Plan = scenario.Plan with { ContextParallelism = context, DataParallelism = (int)(scenario.Cluster.ChipCount / (scenario.Plan.TensorParallelism * scenario.Plan.PipelineParallelism * context)), MicroBatchSize = 1, VirtualStages = 1 },
            }
            : throw new InvalidOperationException();

    [Fact]
    public void ContextDegreeOne_IsExactlyNoContextParallelism()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var plain = AnalyticalEngine.Simulate(scenario);
        var one = AnalyticalEngine.Simulate(scenario with { Plan = scenario.Plan with { ContextParallelism = 1 } });
        Assert.Equal(BitConverter.DoubleToInt64Bits(plain.StepTime.Seconds), BitConverter.DoubleToInt64Bits(one.StepTime.Seconds));
        Assert.Equal(plain.Memory, one.Memory);
        Assert.Equal(0, plain.Breakdown!.ContextParallelCommunication.Seconds);
    }

    [Fact]
    public void DoublingContextParallelism_HalvesActivationsPerChip_AndKeepsTheModelFlops()
    {
        var two = AnalyticalEngine.SimulateStep(LongSequence(2));
        var four = AnalyticalEngine.SimulateStep(LongSequence(4));
        Assert.True(two.Valid && four.Valid, string.Join("; ", two.Problems.Concat(four.Problems)));
        Within.Relative(two.Memory!.Activations.Count / 2, four.Memory!.Activations.Count, 1e-9);
        Assert.Equal(two.ModelFlopsPerStep, four.ModelFlopsPerStep);
        Assert.Equal(two.HardwareFlopsPerStep, four.HardwareFlopsPerStep);
    }

    [Fact]
    public void RingSends_HideBehindAttention_OnAFastLink_AndShowOnASlowOne()
    {
        var fast = AnalyticalEngine.SimulateStep(LongSequence(4).WithScaleUpBandwidth(1000));
        var slow = AnalyticalEngine.SimulateStep(LongSequence(4).WithScaleUpBandwidth(0.001));
        Assert.Equal(0, fast.Breakdown!.ContextParallelCommunication.Seconds);
        Assert.True(slow.Breakdown!.ContextParallelCommunication.Seconds > 0);
    }

    [Theory]
    [InlineData(4, AttentionKernel.Standard, 32768, "set training.attention to flash")]
    [InlineData(3, AttentionKernel.Flash, 32768, "must divide the sequence length 32768")]
    public void ContextParallelism_NeedsFlashAttention_AndBalancedChunks(int context, AttentionKernel attention, int sequence, string expected)
    {
        var scenario = LongSequence(1);
        var plan = scenario.Plan with { ContextParallelism = context, DataParallelism = scenario.Plan.DataParallelism / 4 };
        var result = AnalyticalEngine.SimulateStep(scenario with { Plan = plan, Job = scenario.Job with { Attention = attention, SequenceLength = sequence } });
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains(expected, StringComparison.Ordinal));
    }
}
