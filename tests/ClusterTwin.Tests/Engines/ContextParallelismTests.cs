using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Engines;

public class ContextParallelismTests
{
    /// <summary>Llama 3 70B at 32K tokens on 16 Trn2 UltraServers: long enough for context parallelism to matter.</summary>
    private static ClusterTwin.Scenarios.Scenario LongSequence(int context, int tensor = 8) =>
        Repository.Example("llama3-70b-trn2-ultraserver") is var scenario
            ? scenario with
            {
                Job = scenario.Job with { SequenceLength = 32768, GlobalBatchSize = 64 },
                Plan = scenario.Plan with { TensorParallelism = tensor, ContextParallelism = context, DataParallelism = (int)(scenario.Cluster.ChipCount / (tensor * scenario.Plan.PipelineParallelism * context)), MicroBatchSize = 1, VirtualStages = 1 },
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

    [Theory]
    [InlineData(ContextCommunication.AllGather)]
    [InlineData(ContextCommunication.AllToAll)]
    public void EveryVariant_AtContextDegreeOne_IsExactlyNoContextParallelism(ContextCommunication communication)
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var plain = AnalyticalEngine.Simulate(scenario);
        var variant = AnalyticalEngine.Simulate(scenario with { Plan = scenario.Plan with { ContextCommunication = communication } });
        Assert.Equal(BitConverter.DoubleToInt64Bits(plain.StepTime.Seconds), BitConverter.DoubleToInt64Bits(variant.StepTime.Seconds));
        Assert.Equal(plain.Memory, variant.Memory);
    }

    [Fact]
    public void TheAllGather_ShowsItsGatherForward_AndGatherAndReduceScatterBackward_OnEveryLayer()
    {
        var scenario = LongSequence(4);
        var plan = scenario.Plan with { ContextCommunication = ContextCommunication.AllGather, Recompute = RecomputePolicy.None };
        scenario = scenario with { Plan = plan };
        var result = AnalyticalEngine.SimulateStep(scenario);
        Assert.True(result.Valid, string.Join("; ", result.Problems));

        // Closed form: the collectives over the placed context group, once per layer of the busiest stage and per micro-batch.
        var collectives = new CollectiveCost(scenario.Cluster, scenario.Efficiency);
        var group = GroupPlacement.PlaceNeighbours(scenario.Cluster, plan.ContextParallelism, RankStrides.Of(plan).Context);
        var gathered = ContextPass.KeyValueBlock(scenario.Model, scenario.Job, plan) * plan.ContextParallelism;
        var perLayer = (collectives.Time(CollectiveKind.AllGather, group, gathered) * 2) + collectives.Time(CollectiveKind.ReduceScatter, group, gathered);
        var layers = PipelineLayers.Of(scenario.Model.Layers, plan).Heaviest;
        var microBatches = scenario.Job.GlobalBatchSize / (double)(plan.DataParallelism * plan.MicroBatchSize);
        Within.Relative((perLayer * layers * microBatches).Seconds, result.Breakdown!.ContextParallelCommunication.Seconds, 1e-9);
    }

    [Fact]
    public void TheAllGatherAndAllToAll_DoNotHideBehindAttention_AsTheRingDoes()
    {
        // Tensor 2 x context 4 splits Llama 3 70B's 8 key-value heads, as the all-to-all needs.
        var scenario = LongSequence(4, tensor: 2).WithScaleUpBandwidth(1000);
        Duration Exposed(ContextCommunication communication) =>
            AnalyticalEngine.SimulateStep(scenario with { Plan = scenario.Plan with { ContextCommunication = communication } }) is { Valid: true } result
                ? result.Breakdown!.ContextParallelCommunication
                : throw new InvalidOperationException($"{communication} is invalid here");
        Assert.Equal(Duration.Zero, Exposed(ContextCommunication.Ring));
        Assert.True(Exposed(ContextCommunication.AllGather) > Duration.Zero);
        Assert.True(Exposed(ContextCommunication.AllToAll) > Duration.Zero);
    }

    [Fact]
    public void TheAllToAll_SendsItsBuffersShareBoundElsewhere_AndTheGatheredKeysCostMemoryTheRingDoesNot()
    {
        var scenario = LongSequence(4);
        var ring = scenario.Plan;
        var allToAll = ring with { ContextCommunication = ContextCommunication.AllToAll };
        var (inputs, output) = ContextPass.HeadExchange(scenario.Model, scenario.Job, allToAll);
        var forwardPasses = ring.Recompute == RecomputePolicy.Full ? 2 : 1;
        Within.Relative(((inputs + output) * (3 / 4.0 * (forwardPasses + 1))).Count, ContextPass.SentPerLayer(scenario.Model, scenario.Job, allToAll).Count, 1e-12);
        Within.Relative((ContextPass.KeyValueBlock(scenario.Model, scenario.Job, ring) * (3.0 * (forwardPasses + 2))).Count, ContextPass.SentPerLayer(scenario.Model, scenario.Job, ring).Count, 1e-12);

        var ringMemory = AnalyticalEngine.SimulateStep(scenario).Memory!;
        var gatherMemory = AnalyticalEngine.SimulateStep(scenario with { Plan = ring with { ContextCommunication = ContextCommunication.AllGather } }).Memory!;
        var block = ContextPass.KeyValueBlock(scenario.Model, scenario.Job, ring);
        Within.Relative((block * ((2 * 4) - 4)).Count, (gatherMemory.CommunicationBuffers - ringMemory.CommunicationBuffers).Count, 1e-9);
    }

    [Fact]
    public void TheAllToAll_NeedsTheHeadsOfEachTensorRankToSplitOverTheContextRanks()
    {
        // Llama 3 70B: 8 key-value heads; tensor 4 x context 4 = 16 does not divide them.
        var scenario = LongSequence(4, tensor: 4);
        Assert.Equal(8, scenario.Model.KeyValueHeads);
        var plan = scenario.Plan with { ContextCommunication = ContextCommunication.AllToAll };
        var result = AnalyticalEngine.SimulateStep(scenario with { Plan = plan });
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains("tensor x context = 16 must divide", StringComparison.Ordinal));
        Assert.True(AnalyticalEngine.SimulateStep(scenario with { Plan = plan with { ContextCommunication = ContextCommunication.AllGather } }).Valid);
    }

    [Fact]
    public void AScenario_NamesItsContextCommunication_AndAnUnknownOneIsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        var named = ScenarioLoader.Load(folder.Write("gather.yaml", text.Replace("plan:\n", "plan:\n  context_communication: all-gather\n", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Equal(ContextCommunication.AllGather, named.Plan.ContextCommunication);
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("bad.yaml", text.Replace("plan:\n", "plan:\n  context_communication: ulysses\n", StringComparison.Ordinal)), Repository.Catalog));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("plan.context_communication", diagnostic.Field);
        Assert.Contains("all-to-all", diagnostic.Message, StringComparison.Ordinal);
    }
}
