using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;
using Xunit;

namespace ClusterTwin.Tests.Engines;

/// <summary>
/// A data-parallel collective hidden behind compute still holds its channels' share of the chip
/// (<see cref="CollectiveChannels"/>): the computation it overlaps runs that much longer.
/// </summary>
public sealed class CollectiveChannelsTests
{
    private static readonly CollectiveChannels Nccl = new(2, 16, 132, ["NVIDIA"]);

    private static ClusterTwin.Scenarios.Scenario Gpt3(CollectiveChannels? channels)
    {
        var scenario = ScenarioLoader.Load(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), Repository.Catalog);
        return scenario with { Framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"] with { CollectiveChannels = channels } };
    }

    /// <summary>
    /// The GPT-3 example on PyTorch FSDP, as LLM Foundry lays it out: ZeRO-3 over all 1,024 chips with full recompute,
    /// gathers and reductions in every micro-batch, its data-parallel group holding all eight GPUs of each node.
    /// </summary>
    private static ClusterTwin.Scenarios.Scenario FullySharded(CollectiveChannels? channels, bool overlap = true)
    {
        var scenario = Gpt3(channels);
        // Two sequences a chip (the example's 1,536 do not divide over 1,024 ranks).
        return (scenario with { Job = scenario.Job with { GlobalBatchSize = 2048 } }).WithPlan(plan => plan with
        {
            TensorParallelism = 1, PipelineParallelism = 1, VirtualStages = 1, DataParallelism = 1024, SequenceParallelism = false,
            Recompute = RecomputePolicy.Full, ZeroStage = 3, OverlapGradientReduction = overlap,
        });
    }

    private static Duration DataParallel(ClusterTwin.Scenarios.Scenario scenario)
    {
        var result = AnalyticalEngine.SimulateStep(scenario);
        Assert.True(result.Valid, string.Join("; ", result.Problems));
        return result.Breakdown!.DataParallelCommunication;
    }

    /// <summary>What the channels add, against what overlap hides: <c>c - max(c - w, last bucket) = min(w, c - last bucket)</c>.</summary>
    private static (double Added, double Hidden) AddedAndHidden(Func<CollectiveChannels?, bool, ClusterTwin.Scenarios.Scenario> scenario)
    {
        var free = DataParallel(scenario(null, true));
        var whole = DataParallel(scenario(null, false));
        // Without overlap nothing is hidden: the collectives show whole, whatever their channels.
        Assert.Equal(whole, DataParallel(scenario(Nccl, false)));
        Assert.True(free < whole * 0.9, $"{free} of {whole} shows: the collectives should partly hide");
        return ((DataParallel(scenario(Nccl, true)) - free).Seconds, (whole - free).Seconds);
    }

    [Fact]
    public void AHiddenCollective_AddsItsChannelsShareOfItsHiddenTime_AndNothingElse()
    {
        // All eight GPUs of each node: 16 channels of 132. The example runs no expert multiplies: no host waits.
        var (added, hidden) = AddedAndHidden(FullySharded);
        Within.Relative(16.0 / 132 * hidden, added, 1e-9);

        var step = AnalyticalEngine.SimulateStep(FullySharded(Nccl)).Breakdown!;
        var stepWithout = AnalyticalEngine.SimulateStep(FullySharded(null)).Breakdown!;
        Assert.Equal(stepWithout.Compute, step.Compute);
        Within.Relative(added, (step.Total - stepWithout.Total).Seconds, 1e-9);
    }

    [Fact]
    public void AReplicaAllReduce_OneMemberPerNode_HoldsTwoChannels()
    {
        // The example's layout (tensor 8 inside each node) with sharding groups of one: the data-parallel time is the
        // replicas' all-reduce alone, over 16 nodes with one member in each.
        ClusterTwin.Scenarios.Scenario Replicas(CollectiveChannels? channels, bool overlap) =>
            Gpt3(channels).WithPlan(plan => plan with { ZeroStage = 1, ShardingGroup = 1, OverlapGradientReduction = overlap });
        Assert.Equal(16, Replicas(null, true).Plan.ReplicaGroups);
        var (added, hidden) = AddedAndHidden(Replicas);
        Within.Relative(2.0 / 132 * hidden, added, 1e-9);
    }

    [Fact]
    public void WhileTheChipWaitsForTheHost_AHiddenCollectiveTakesNothing()
    {
        // The model zoo's Megatron-FSDP Qwen3-235B on 256 H100, weights gathered every micro-batch. Without launch
        // times its collectives hide behind compute alone; with a launch time long enough that its expert multiplies
        // wait for the host, part of each window is the chip waiting, where the channels take nothing.
        var published = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "moezoo-h100-qwen3-235b-3.yaml"), Repository.Catalog).Scenario;
        ClusterTwin.Scenarios.Scenario With(Duration launch, CollectiveChannels? channels, bool overlap) =>
            (published with { Framework = published.Framework with { CollectiveChannels = channels, ExpertLaunch = launch, ExpertQuantizeLaunch = Duration.Zero } })
                .WithPlan(plan => plan with { OverlapGradientReduction = overlap });
        double AddedPerHidden(Duration launch)
        {
            var (added, hidden) = AddedAndHidden((channels, overlap) => With(launch, channels, overlap));
            return added / hidden;
        }

        var slowHost = Duration.FromSeconds(1e-3);
        Assert.True(AnalyticalEngine.SimulateStep(With(slowHost, Nccl, true)).Breakdown!.HostLaunchWait > Duration.Zero);
        var computing = AddedPerHidden(Duration.Zero);
        var waiting = AddedPerHidden(slowHost);
        Assert.InRange(computing, 2.0 / 132, 16.0 / 132);
        Assert.True(waiting < computing * 0.99, $"{waiting} of the hidden time added with host waits, {computing} without");
    }

    [Theory]
    [InlineData(1, true, 2.0 / 132)]   // one member per node: a ring through one adapter, two channels
    [InlineData(4, true, 8.0 / 132)]
    [InlineData(8, true, 16.0 / 132)]  // all eight GPUs of each node: 16 channels, NCCL's least logged count
    [InlineData(72, true, 16.0 / 132)] // no more than the most, however many members share a system
    [InlineData(2, false, 16.0 / 132)] // inside one system NCCL sizes the channels by NVLink's bandwidth: the most
    public void TheShare_IsTwoChannelsPerMemberAcrossSystems_TheMostInsideOne(int membersPerSystem, bool crossesSystems, double share)
    {
        var channels = Repository.Catalog.TrainingFrameworks["megatron-core"].CollectiveChannels!;
        Assert.Equal(share, channels.ComputeShare(membersPerSystem, crossesSystems), 12);
        Assert.Equal(channels, Repository.Catalog.TrainingFrameworks["pytorch-fsdp"].CollectiveChannels);
    }

    [Fact]
    public void NvidiasCollectivesTakeTheirShare_OtherVendorsNone()
    {
        var channels = Repository.Catalog.TrainingFrameworks["megatron-core"].CollectiveChannels!;
        Assert.True(channels.AppliesTo("NVIDIA"));
        Assert.False(channels.AppliesTo("AMD")); // megatron-core is AMD's default too; RCCL's share is not sourced
        Assert.Null(Repository.Catalog.TrainingFrameworks["neuronx-distributed"].CollectiveChannels);
        Assert.Null(Repository.Catalog.TrainingFrameworks["maxtext"].CollectiveChannels);
        Assert.Null(TrainingFramework.None.CollectiveChannels);

        // The same layout on chips of a vendor the channels do not describe: nothing added.
        var other = Nccl with { Vendors = ["AMD"] };
        Assert.Equal(DataParallel(FullySharded(null)), DataParallel(FullySharded(other)));
    }

    [Theory]
    [InlineData("  most: 16\n", "  most: 100\n", "collective_channels.most", "more than half the chip")]
    [InlineData("  per_member: 2\n", "", "collective_channels.per_member", "missing")]
    [InlineData("  multiprocessors: 132\n", "  multiprocessors: many\n", "collective_channels.multiprocessors", "not a whole number")]
    [InlineData("  vendors: [NVIDIA]", "  vendors: []", "collective_channels.vendors", "expected a list of the chip vendors")]
    public void ChannelsOverHalfTheChip_Missing_OrForNoVendor_AreACatalogueError(string from, string to, string field, string message)
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/pytorch-fsdp.yaml", from, to);
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(field, diagnostic.Field);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("pytorch-fsdp.yaml", diagnostic.File, StringComparison.Ordinal);
    }
}
