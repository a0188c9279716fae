using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using Xunit;

namespace ClusterTwin.Tests.Engines;

/// <summary>
/// A data-parallel collective hidden behind compute still holds its channels' share of the chip
/// (<see cref="CollectiveChannels"/>): the computation it overlaps runs that much longer.
/// </summary>
public sealed class CollectiveChannelsTests
{
    /// <summary>
    /// The GPT-3 example on PyTorch FSDP, as LLM Foundry lays it out: ZeRO-3 over all 1,024 chips with full recompute,
    /// gathers and reductions in every micro-batch, its data-parallel group holding all eight GPUs of each node.
    /// </summary>
    private static ClusterTwin.Scenarios.Scenario FullySharded(CollectiveChannels? channels, bool overlap = true)
    {
        var scenario = ScenarioLoader.Load(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), Repository.Catalog);
        var framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"] with { CollectiveChannels = channels };
        // Two sequences a chip (the example's 1,536 do not divide over 1,024 ranks).
        return (scenario with { Framework = framework, Job = scenario.Job with { GlobalBatchSize = 2048 } }).WithPlan(plan => plan with
        {
            TensorParallelism = 1, PipelineParallelism = 1, VirtualStages = 1, DataParallelism = 1024, SequenceParallelism = false,
            Recompute = RecomputePolicy.Full, ZeroStage = 3, OverlapGradientReduction = overlap,
        });
    }

    private static Duration DataParallel(ClusterTwin.Scenarios.Scenario scenario) => AnalyticalEngine.SimulateStep(scenario).Breakdown!.DataParallelCommunication;

    [Fact]
    public void AHiddenCollective_AddsItsChannelsShareOfItsHiddenTime_AndNothingElse()
    {
        var channels = new CollectiveChannels(2, 16, 132);
        var free = DataParallel(FullySharded(null));
        var shared = DataParallel(FullySharded(channels));
        // Without overlap nothing is hidden: the collectives show whole, whatever their channels.
        var whole = DataParallel(FullySharded(null, overlap: false));
        Assert.Equal(whole, DataParallel(FullySharded(channels, overlap: false)));
        Assert.True(free < whole * 0.9, $"{free} of {whole} shows: the example's collectives should partly hide");
        // The example's data-parallel groups hold all eight GPUs of each node: 16 channels of 132. What hid is
        // c - max(c - w, last bucket) = min(w, c - last bucket); each hidden part adds that share of itself.
        Within.Relative(16.0 / 132 * (whole - free).Seconds, (shared - free).Seconds, 1e-9);

        var result = AnalyticalEngine.SimulateStep(FullySharded(channels));
        Assert.True(result.Valid, string.Join("; ", result.Problems));
        var step = result.Breakdown!;
        var stepWithout = AnalyticalEngine.SimulateStep(FullySharded(null)).Breakdown!;
        Assert.Equal(stepWithout.Compute, step.Compute);
        Within.Relative((shared - free).Seconds, (step.Total - stepWithout.Total).Seconds, 1e-9);
    }

    [Theory]
    [InlineData(1, 2.0 / 132)]   // one member per node: a ring through one adapter, two channels
    [InlineData(4, 8.0 / 132)]
    [InlineData(8, 16.0 / 132)]  // all eight GPUs of each node: 16 channels, NCCL's least logged count
    [InlineData(72, 16.0 / 132)] // no more than the most, however many members share a system
    public void TheShare_IsTwoChannelsPerMemberInASystem_UpToTheMost(int membersPerSystem, double share)
    {
        var channels = Repository.Catalog.TrainingFrameworks["megatron-core"].CollectiveChannels!;
        Assert.Equal(share, channels.ComputeShare(membersPerSystem), 12);
        Assert.Equal(channels, Repository.Catalog.TrainingFrameworks["pytorch-fsdp"].CollectiveChannels);
    }

    [Fact]
    public void TrainiumsCollectiveEngines_AndTpus_TakeNone()
    {
        Assert.Null(Repository.Catalog.TrainingFrameworks["neuronx-distributed"].CollectiveChannels);
        Assert.Null(Repository.Catalog.TrainingFrameworks["maxtext"].CollectiveChannels);
        Assert.Null(TrainingFramework.None.CollectiveChannels);
    }

    [Theory]
    [InlineData("  most: 16\n", "  most: 100\n", "collective_channels.most", "more than half the chip")]
    [InlineData("  per_member: 2\n", "", "collective_channels.per_member", "missing")]
    [InlineData("  multiprocessors: 132\n", "  multiprocessors: many\n", "collective_channels.multiprocessors", "not a whole number")]
    public void ChannelsOverHalfTheChip_OrMissing_AreACatalogueError(string from, string to, string field, string message)
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/pytorch-fsdp.yaml", from, to);
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(field, diagnostic.Field);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("pytorch-fsdp.yaml", diagnostic.File, StringComparison.Ordinal);
    }
}
