using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Planning;
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

    /// <summary>GPT-3 175B at 32K tokens on 128 DGX H100, tensor 8 x context 4: the context group spans four systems.</summary>
    private static ClusterTwin.Scenarios.Scenario AcrossSystems(ContextCommunication communication, RecomputePolicy recompute = RecomputePolicy.None) =>
        Repository.Example("gpt3-175b-h100-1024") is var basis
            ? basis with
            {
                Job = basis.Job with { SequenceLength = 32768, GlobalBatchSize = 64, Attention = AttentionKernel.Flash },
                Plan = new ParallelPlan(8, 8, 4, 1, SequenceParallelism: true, Recompute: recompute, ContextParallelism: 4) { ContextCommunication = communication },
            }
            : throw new InvalidOperationException();

    [Theory]
    [InlineData(ContextCommunication.AllGather)]
    [InlineData(ContextCommunication.AllToAll)]
    public void TheCollectiveVariants_RunOverTheWholeContextGroup_InTheirClosedForm(ContextCommunication communication)
    {
        var scenario = AcrossSystems(communication);
        var (plan, model, job, cluster) = (scenario.Plan, scenario.Model, scenario.Job, scenario.Cluster);
        var result = AnalyticalEngine.SimulateStep(scenario);
        Assert.True(result.Valid, string.Join("; ", result.Problems));

        // The whole group of 4 ranks, 8 apart: one per system, so the collectives cross the network.
        var group = GroupPlacement.Place(cluster, 4, 8);
        Assert.Equal(4, group.Size);
        Assert.True(group.CrossesFabric);
        var collectives = new CollectiveCost(cluster, scenario.Efficiency);
        double tokens = 32768 / 4.0;
        var keyValueBlock = Bytes.FromCount(tokens * 2 * (model.KeyValueHeads / 8.0) * (model.QueryKeyHeadSize + model.ValueHeadSize) / 2 * 2);
        var inputs = Bytes.FromCount(tokens * ((model.QueryWidth / 8.0) + (model.KeyValueHeads / 8.0 * (model.QueryKeyHeadSize + model.ValueHeadSize))) * 2);
        var output = Bytes.FromCount(tokens * model.ValueWidth / 8.0 * 2);
        var perLayer = communication == ContextCommunication.AllGather
            ? (collectives.Time(CollectiveKind.AllGather, group, keyValueBlock * 4) * 2) + collectives.Time(CollectiveKind.ReduceScatter, group, keyValueBlock * 4)
            : (collectives.Time(CollectiveKind.AllToAll, group, inputs) + collectives.Time(CollectiveKind.AllToAll, group, output)) * 2;
        var layers = PipelineLayers.Of(model.Layers, plan).Heaviest;
        var microBatches = job.GlobalBatchSize / (double)(plan.DataParallelism * plan.MicroBatchSize);
        Within.Relative((perLayer * layers * microBatches).Seconds, result.Breakdown!.ContextParallelCommunication.Seconds, 1e-9);
    }

    [Theory]
    [InlineData(ContextCommunication.AllGather)]
    [InlineData(ContextCommunication.AllToAll)]
    public void ReplayingTheAttentionCore_ReplaysTheExchange_WhetherFullOrSelective(ContextCommunication communication)
    {
        Duration Context(RecomputePolicy recompute) => AnalyticalEngine.SimulateStep(AcrossSystems(communication, recompute)).Breakdown!.ContextParallelCommunication;
        var (none, selective, full) = (Context(RecomputePolicy.None), Context(RecomputePolicy.Selective), Context(RecomputePolicy.Full));
        Assert.True(none > Duration.Zero);
        Within.Relative(full.Seconds, selective.Seconds, 1e-12);
        // Forward f and backward b against f + b + f: the all-gather's backward is a gather and a reduce-scatter (b = 2f
        // on a ring-like bus), the all-to-all's the forward's pair again (b = f).
        var replayShare = communication == ContextCommunication.AllToAll ? 1.5 : 4.0 / 3;
        Within.Relative(none.Seconds * replayShare, full.Seconds, 0.02);
        var dropped = AcrossSystems(communication, RecomputePolicy.Selective);
        Assert.Equal(none, AnalyticalEngine.SimulateStep(dropped with { Plan = dropped.Plan with { RecomputeModules = RecomputeModules.FeedForward } }).Breakdown!.ContextParallelCommunication);
    }

    [Fact]
    public void ThePlanSearch_ExploresTheExchange_UnlessTheScenarioNamesIt()
    {
        var scenario = AcrossSystems(ContextCommunication.AllGather);
        var free = PlanPins.SettingsOf(scenario.Plan) with { TensorParallelism = 8, ContextParallelism = 4, PipelineParallelism = 8, Recompute = RecomputePolicy.None, SequenceParallelism = true };
        var all = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, free).ValidLayouts();
        Assert.Equal([ContextCommunication.Ring, ContextCommunication.AllGather, ContextCommunication.AllToAll], all.Select(plan => plan.ContextCommunication).Distinct().Order());

        var pinned = PlanSearch.Run(scenario, free with { ContextCommunication = ContextCommunication.AllGather }, top: 3, threads: 1);
        Assert.NotEmpty(pinned.Plans);
        Assert.All(pinned.Plans, ranked => Assert.Equal(ContextCommunication.AllGather, ranked.Plan.ContextCommunication));
        Assert.Contains("CP 4 (all-gather)", PlanDescription.Of(pinned.Plans[0].Plan), StringComparison.Ordinal);

        // A plan block that names the exchange pins it.
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        Assert.Contains("plan:\n", text, StringComparison.Ordinal);
        var planning = ScenarioLoader.LoadForPlanning(folder.Write("pinned.yaml", text.Replace("plan:\n", "plan:\n  context_communication: all-to-all\n", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Equal(ContextCommunication.AllToAll, planning.Pins.ContextCommunication);
        Assert.Null(ScenarioLoader.LoadForPlanning(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), Repository.Catalog).Pins.ContextCommunication);
    }

    [Fact]
    public void ALayoutThatDiffersOnlyInItsExchange_NamesBothExchanges()
    {
        var ring = AcrossSystems(ContextCommunication.Ring).Plan;
        Assert.Equal("CP 4 (ring) -> 4 (all-to-all)", PlanDescription.Differences(ring, ring with { ContextCommunication = ContextCommunication.AllToAll }));
        Assert.Equal("CP 4 (all-gather) -> 2 (all-gather)", PlanDescription.Differences(ring with { ContextCommunication = ContextCommunication.AllGather }, ring with { ContextCommunication = ContextCommunication.AllGather, ContextParallelism = 2 }));
        Assert.Equal("CP 4 -> 2", PlanDescription.Differences(ring, ring with { ContextParallelism = 2 }));
    }

    [Fact]
    public void TheReportAndJson_NameTheExchange_OnlyWhereThereIsOne()
    {
        var path = Repository.Path("examples", "compare-context", "llama3-8b-128k-all-to-all.yaml");
        var report = CliRunner.Run("simulate", path);
        Assert.Equal(0, report.ExitCode);
        Assert.Contains("CP 8 (all-to-all)", report.Output, StringComparison.Ordinal);
        var json = CliRunner.Run("simulate", path, "--json");
        Assert.Contains("\"contextCommunication\": \"all-to-all\"", json.Output, StringComparison.Ordinal);

        // Without context parallelism there is no exchange to name, whatever the file says.
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        var one = CliRunner.Run("simulate", folder.Write("one.yaml", text.Replace("plan:\n", "plan:\n  context_communication: all-to-all\n", StringComparison.Ordinal)), "--json");
        Assert.Equal(0, one.ExitCode);
        Assert.DoesNotContain("contextCommunication", one.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheAllGatherAndAllToAll_DoNotHideBehindAttention_AsTheRingDoes()
    {
        // Tensor 1 (four ranks on a Trainium2) x context 2 splits Llama 3 70B's 8 key-value heads, as the all-to-all needs.
        var narrow = LongSequence(2, tensor: 1);
        var scenario = (narrow with { Job = narrow.Job with { GlobalBatchSize = 128 } }).WithScaleUpBandwidth(1000);
        Duration Exposed(ContextCommunication communication) =>
            AnalyticalEngine.SimulateStep(scenario with { Plan = scenario.Plan with { ContextCommunication = communication } }) is { Valid: true } result
                ? result.Breakdown!.ContextParallelCommunication
                : throw new InvalidOperationException($"{communication} is invalid here");
        Assert.Equal(Duration.Zero, Exposed(ContextCommunication.Ring));
        Assert.True(Exposed(ContextCommunication.AllGather) > Duration.Zero);
        Assert.True(Exposed(ContextCommunication.AllToAll) > Duration.Zero);
    }

    [Fact]
    public void EachVariant_SendsItsAlgorithmicBytes_AndHoldsItsBuffers()
    {
        var scenario = AcrossSystems(ContextCommunication.Ring);
        var (model, job) = (scenario.Model, scenario.Job);
        double Sent(ContextCommunication communication, int context) =>
            ContextPass.SentPerLayer(model, job, scenario.Plan with { ContextCommunication = communication, ContextParallelism = context }).Count;

        // Per chip s/c tokens of BF16: keys and values (2 x 12,288 wide per 8 tensor ranks) for the ring and the
        // all-gather, (c - 1) blocks per pass, forward + two backward; queries, keys, values and output (4 x 12,288 / 8)
        // for the all-to-all, (c - 1)/c of them per pass.
        double Block(int context) => 32768.0 / context * 2 * (12288 / 8.0) * 2;
        Within.Relative(Block(4) * 3 * 3, Sent(ContextCommunication.Ring, 4), 1e-12);
        Within.Relative(Block(4) * 3 * 3, Sent(ContextCommunication.AllGather, 4), 1e-12);
        Within.Relative(32768.0 / 4 * 4 * (12288 / 8.0) * 2 * (3 / 4.0) * 2, Sent(ContextCommunication.AllToAll, 4), 1e-12);
        Within.Relative(32768.0 / 2 * 4 * (12288 / 8.0) * 2 * (1 / 2.0) * 2, Sent(ContextCommunication.AllToAll, 2), 1e-12);

        MemoryBreakdown Memory(ContextCommunication communication) => AnalyticalEngine.SimulateStep(AcrossSystems(communication)).Memory!;
        var ring = Memory(ContextCommunication.Ring);
        Within.Relative(Block(4) * ((2 * 4) - 4), (Memory(ContextCommunication.AllGather).CommunicationBuffers - ring.CommunicationBuffers).Count, 1e-9);
        Within.Relative((32768.0 / 4 * 4 * (12288 / 8.0) * 2) - (Block(4) * 4), (Memory(ContextCommunication.AllToAll).CommunicationBuffers - ring.CommunicationBuffers).Count, 1e-9);
    }

    [Fact]
    public void TheAllToAll_NeedsTheHeadsOfEachTensorRankToSplitOverTheContextRanks()
    {
        // Llama 3 70B: 8 key-value heads. Tensor 1 x context 4 would divide them, but a Trainium2 chip runs four ranks:
        // 4 tensor ranks x context 4 = 16 does not.
        var scenario = LongSequence(4, tensor: 1);
        Assert.Equal(8, scenario.Model.KeyValueHeads);
        var plan = scenario.Plan with { ContextCommunication = ContextCommunication.AllToAll };
        var result = AnalyticalEngine.SimulateStep(scenario with { Plan = plan });
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains("tensor (4 ranks) x context = 16 must divide", StringComparison.Ordinal));
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

    [Fact]
    public void TheCausalMfu_CountsHalfTheAttention_AndFallsFurtherBelowTheFullCountAtLongSequences()
    {
        // Llama 2 7B at 128K tokens: attention is most of the model FLOPs, so the two conventions differ by a third or more.
        var scenario = ScenarioLoader.Load(Repository.Path("examples", "compare-context", "llama2-7b-128k-ring.yaml"), Repository.Catalog);
        var result = AnalyticalEngine.Simulate(scenario);
        var (model, job) = (scenario.Model, scenario.Job);
        var ratio = AnalyticalEngine.ModelFlops(model, job, causalAttention: true) / AnalyticalEngine.ModelFlops(model, job);
        Assert.Equal(ratio, result.CausalModelFlopsUtilization / result.ModelFlopsUtilization, 12);
        var share = AnalyticalEngine.AttentionShare(model, job);
        Assert.Equal(1 - (share / 2), ratio, 12);
        Assert.True(result.CausalModelFlopsUtilization < 0.67 * result.ModelFlopsUtilization, $"{result.CausalModelFlopsUtilization} against {result.ModelFlopsUtilization}");
    }
}
