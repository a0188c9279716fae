using ClusterTwin.Engines.Analytical;
using ClusterTwin.Tests.Support;
using Xunit;

namespace ClusterTwin.Tests.Engines;

/// <summary>
/// Pipeline sends under the interleaved schedule: overlapped with the next chunk's pass where the framework does it
/// (Megatron-Core's overlap_p2p_comm), all exposed where it does not or the plan says not.
/// </summary>
public sealed class PipelineOverlapTests
{
    [Fact]
    public void MegatronCore_HidesInterleavedSends_BehindTheNextChunk_UnlessThePlanSaysNot()
    {
        // GPT-3 175B on 1,024 H100, pipeline 8 with 4 virtual stages: 3 layers a chunk, each pass of them far longer
        // than one send of a micro-batch's activations over InfiniBand.
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        Assert.True(scenario.Framework.OverlapsInterleavedPipelineSends);
        var overlapped = AnalyticalEngine.Simulate(scenario);
        var exposed = AnalyticalEngine.Simulate(scenario with { Plan = scenario.Plan with { OverlapPipelineCommunication = false } });
        Assert.True(exposed.Breakdown!.PipelineCommunication.Seconds > 0);
        Assert.Equal(0, overlapped.Breakdown!.PipelineCommunication.Seconds);
        // The sends were all of the difference: the bubble shrinks with the shorter micro-batch, nothing else moves.
        Assert.Equal(exposed.Breakdown.Compute, overlapped.Breakdown.Compute);
        Assert.True(overlapped.StepTime < exposed.StepTime);
        Assert.True(overlapped.Breakdown.PipelineBubble < exposed.Breakdown.PipelineBubble);
    }

    [Fact]
    public void WithoutVirtualStages_SendsAreExposed_AndAskingForTheOverlapIsAnInvalidPlan()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var plain = scenario.Plan with { VirtualStages = 1 };
        var result = AnalyticalEngine.Simulate(scenario with { Plan = plain });
        Assert.True(result.Breakdown!.PipelineCommunication.Seconds > 0);
        var asked = AnalyticalEngine.Simulate(scenario with { Plan = plain with { OverlapPipelineCommunication = true } });
        Assert.False(asked.Valid);
        Assert.Contains(asked.Problems, problem => problem.Contains("overlap_pipeline_communication needs the interleaved schedule", StringComparison.Ordinal));
    }

    [Fact]
    public void ASendLongerThanAChunksPass_ShowsWhatOutlastsIt()
    {
        // One layer a chunk and a slow scale-out network: each send outlasts the pass it hides behind, and what shows
        // is less than the sends themselves.
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var thin = scenario.Plan with { VirtualStages = 12 };
        var system = scenario.Cluster.System;
        var slowNetwork = scenario.Cluster with { System = system with { ScaleOutBandwidth = system.ScaleOutBandwidth! with { Value = system.ScaleOutBandwidth.Value * 0.002 } } };
        var slow = scenario with { Cluster = slowNetwork, Plan = thin };
        var overlapped = AnalyticalEngine.Simulate(slow).Breakdown!.PipelineCommunication;
        var exposed = AnalyticalEngine.Simulate(slow with { Plan = thin with { OverlapPipelineCommunication = false } }).Breakdown!.PipelineCommunication;
        Assert.True(overlapped.Seconds > 0);
        Assert.True(overlapped < exposed);
    }

    [Fact]
    public void TheKorthikantiCases_RunMegatronLm2022_WhichBatchedItsSends()
    {
        foreach (var id in new[] { "korthikanti-a100-175B-full", "korthikanti-a100-530B-seqpar-selective" })
        {
            var scenario = Repository.TrainingCases.Single(validationCase => validationCase.Id == id).Scenario;
            Assert.True(scenario.Plan.VirtualStages > 1 || scenario.Plan.PipelineParallelism > 1);
            Assert.False(scenario.Plan.OverlapsPipelineSends(scenario.Framework));
        }
    }
}
