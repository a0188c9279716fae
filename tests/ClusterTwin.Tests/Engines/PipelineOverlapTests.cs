using ClusterTwin.Engines.Analytical;
using ClusterTwin.Planning;
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
        // The sends were all of the difference. The fill and the drain still wait for them in full (the receiving stage
        // has nothing to overlap them with), so the bubble stays.
        Assert.Equal(exposed.Breakdown.Compute, overlapped.Breakdown.Compute);
        Assert.Equal(exposed.Breakdown.PipelineBubble, overlapped.Breakdown.PipelineBubble);
        Assert.Equal(exposed.StepTime - exposed.Breakdown.PipelineCommunication, overlapped.StepTime);
    }

    [Fact]
    public void AFrameworkThatDoesNotOverlapSends_MakesAskingForItAnInvalidPlan()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var asked = scenario with { Plan = scenario.Plan with { OverlapPipelineCommunication = true } };
        Assert.True(AnalyticalEngine.Simulate(asked).Valid);
        var other = AnalyticalEngine.Simulate(asked with { Framework = Repository.Catalog.TrainingFrameworks["neuronx-distributed"] });
        Assert.False(other.Valid);
        Assert.Contains(other.Problems, problem => problem.Contains("does not overlap pipeline sends as modelled", StringComparison.Ordinal));
        // Without the overlap asked for, its sends are exposed: it does not overlap them by default.
        Assert.True(AnalyticalEngine.Simulate(scenario with { Framework = Repository.Catalog.TrainingFrameworks["neuronx-distributed"] }).Breakdown!.PipelineCommunication.Seconds > 0);
    }

    [Fact]
    public void ASearchAskedForTheOverlap_KeepsTheLayoutsWithoutVirtualStages()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var pins = PlanPins.SettingsOf(scenario.Plan) with { TensorParallelism = 8, PipelineParallelism = 8 };
        var plain = PlanSearch.Run(scenario, pins, top: 50, threads: 1);
        var asked = PlanSearch.Run(scenario, PlanPins.SettingsOf(scenario.Plan with { OverlapPipelineCommunication = true }) with { TensorParallelism = 8, PipelineParallelism = 8 }, top: 50, threads: 1);
        Assert.Equal(plain.Evaluated, asked.Evaluated);
        Assert.Equal(plain.PrunedOther, asked.PrunedOther);
        Assert.Equal(plain.Plans.Select(ranked => ranked.Result.StepTime), asked.Plans.Select(ranked => ranked.Result.StepTime));
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
        var slow = scenario.WithScaleOutBandwidth(0.002) with { Plan = thin };
        var result = AnalyticalEngine.Simulate(slow);
        var overlapped = result.Breakdown!.PipelineCommunication;
        var exposed = AnalyticalEngine.Simulate(slow with { Plan = thin with { OverlapPipelineCommunication = false } }).Breakdown!.PipelineCommunication;
        Assert.True(overlapped.Seconds > 0);
        // Each send outlasts both passes it hides behind, so what shows is the sends less the stage's whole time: its
        // compute, recompute and exposed communication, micro-batch by micro-batch.
        var breakdown = result.Breakdown;
        var stage = breakdown.Compute + breakdown.Recompute + breakdown.TensorParallelCommunication + breakdown.ContextParallelCommunication
            + breakdown.ExpertParallelCommunication + breakdown.HostLaunchWait;
        Within.Relative((exposed - stage).Seconds, overlapped.Seconds, 1e-9);
    }

    [Fact]
    public void TheKorthikantiCases_RunMegatronLm2022_WhichBatchedItsSends()
    {
        foreach (var id in new[] { "korthikanti-a100-175B-full", "korthikanti-a100-530B-seqpar-selective" })
        {
            var scenario = Repository.TrainingCases.Single(validationCase => validationCase.Id == id).Scenario;
            Assert.True(scenario.Plan.VirtualStages > 1 && scenario.Plan.PipelineParallelism > 1);
            Assert.False(scenario.Plan.OverlapsPipelineSends(scenario.Framework));
        }
    }
}
