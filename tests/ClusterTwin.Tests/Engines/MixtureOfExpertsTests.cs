using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines;

public class MixtureOfExpertsTests
{
    /// <summary>Qwen3-235B-A22B on 256 H100 as Megatron-Bridge runs it (TP2 PP8 EP32).</summary>
    private static Scenario Qwen(int expert = 32) => Repository.Example("gpt3-175b-h100-1024") is var basis
        ? basis with
        {
            Name = "Qwen3-235B-A22B on 256 H100",
            Model = Repository.Catalog.Models["qwen3-235b-a22b"],
            Cluster = basis.Cluster with { SystemCount = 32 },
            Job = basis.Job with { SequenceLength = 4096, GlobalBatchSize = 2048 },
            Plan = basis.Plan with { TensorParallelism = 2, PipelineParallelism = 8, DataParallelism = 16, VirtualStages = 4, MicroBatchSize = 1, ExpertParallelism = expert, SequenceParallelism = true },
        }
        : throw new InvalidOperationException();

    [Fact]
    public void ActiveParameters_AreThePublishedActivatedCount()
    {
        Within.Relative(22e9, Repository.Catalog.Models["qwen3-235b-a22b"].ActiveParameters, 0.05);
        Within.Relative(3.3e9, Repository.Catalog.Models["qwen3-30b-a3b"].ActiveParameters, 0.05);
        Within.Relative(12.9e9, Repository.Catalog.Models["mixtral-8x7b"].ActiveParameters, 0.02);
    }

    [Fact]
    public void ModelFlops_CountOnlyTheActivatedExperts()
    {
        var scenario = Qwen();
        var experts = scenario.Model.MixtureOfExperts!;
        var flops = AnalyticalEngine.ModelFlops(scenario.Model, scenario.Job).Operations;
        var fewerPerToken = AnalyticalEngine.ModelFlops(scenario.Model with { MixtureOfExperts = experts with { PerToken = 4 } }, scenario.Job).Operations;
        var twiceAsMany = AnalyticalEngine.ModelFlops(scenario.Model with { MixtureOfExperts = experts with { Routed = 256 } }, scenario.Job).Operations;
        Assert.True(fewerPerToken < flops);
        Within.Relative(flops, twiceAsMany, 0.01);
        Assert.InRange(flops / (6 * scenario.Model.ActiveParameters * scenario.Job.TokensPerStep), 1.0, 1.3);
    }

    [Fact]
    public void ExpertParallelism_SplitsTheExpertsAcrossChips_AndPaysForTheAllToAll()
    {
        var spread = AnalyticalEngine.SimulateStep(Qwen(32));
        var narrow = AnalyticalEngine.SimulateStep(Qwen(8));
        Assert.True(spread.Valid && narrow.Valid, string.Join("; ", spread.Problems.Concat(narrow.Problems)));
        Assert.True(spread.Memory!.Weights < narrow.Memory!.Weights, "32-way expert parallelism holds fewer experts per chip than 8-way");
        Assert.True(spread.Breakdown!.ExpertParallelCommunication > narrow.Breakdown!.ExpertParallelCommunication, "32 ranks span four systems and cross the network");
        Assert.True(narrow.Breakdown.ExpertParallelCommunication.Seconds > 0);
    }

    [Fact]
    public void ExpertParallelism_OnADenseModel_IsAnError()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var result = AnalyticalEngine.SimulateStep(scenario with { Plan = scenario.Plan with { ExpertParallelism = 2 } });
        Assert.Contains(result.Problems, problem => problem.Contains("needs a mixture-of-experts model", StringComparison.Ordinal));
    }

    [Fact]
    public void ExpertParallelism_MustDivideTheExperts()
    {
        var result = AnalyticalEngine.SimulateStep(Qwen(3) with { Plan = Qwen(3).Plan with { DataParallelism = 16 } });
        Assert.Contains(result.Problems, problem => problem.Contains("does not divide the 128 routed experts", StringComparison.Ordinal));
    }

    [Fact]
    public void Fp8_HalvesWeightMemoryAgainstBf16()
    {
        var scenario = Qwen(8);
        var bf16 = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Precision = ClusterTwin.Hardware.Precision.Bf16 } });
        var fp8 = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Precision = ClusterTwin.Hardware.Precision.Fp8 } });
        Within.Relative(bf16.Memory!.Weights.Count / 2, fp8.Memory!.Weights.Count, 1e-12);
    }

    [Fact]
    public void RoutingSkew_WithoutExpertParallelism_ChangesNothing()
    {
        var scenario = Qwen(1);
        var skewed = scenario with { Model = scenario.Model with { MixtureOfExperts = scenario.Model.MixtureOfExperts! with { RoutingSkew = 2 } } };
        Assert.Equal(AnalyticalEngine.SimulateStep(scenario).StepTime, AnalyticalEngine.SimulateStep(skewed).StepTime);
    }

    [Fact]
    public void RoutingSkew_SlowsTheStep_ButNotTheWorkExecuted()
    {
        var scenario = Qwen(8);
        var skewed = scenario with { Model = scenario.Model with { MixtureOfExperts = scenario.Model.MixtureOfExperts! with { RoutingSkew = 2 } } };
        var (even, uneven) = (AnalyticalEngine.SimulateStep(scenario), AnalyticalEngine.SimulateStep(skewed));
        Assert.True(uneven.StepTime > even.StepTime);
        Assert.Equal(even.HardwareFlopsPerStep, uneven.HardwareFlopsPerStep);
    }

    [Fact]
    public void ExpertGroupInsideTheTensorGroup_CostsTheSameInEitherRankOrder()
    {
        // TP 8 and EP 8 on one stage: the expert group is the tensor group, inside one system, whatever the order.
        var scenario = Qwen(8) with { Plan = Qwen(8).Plan with { TensorParallelism = 8, DataParallelism = 4, PipelineParallelism = 8, ExpertParallelism = 8 } };
        var pipelineInside = scenario with { Plan = scenario.Plan with { Order = ClusterTwin.Parallelism.RankOrder.TensorPipelineData } };
        Assert.Equal(AnalyticalEngine.SimulateStep(scenario).Breakdown!.ExpertParallelCommunication, AnalyticalEngine.SimulateStep(pipelineInside).Breakdown!.ExpertParallelCommunication);
    }

    [Fact]
    public void LeadingDenseLayers_ThatReachTheSecondStage_DoNotHideTheHeavierLaterStages()
    {
        // More leading dense layers (cheaper than expert layers here) can only lower the slowest stage if every stage
        // gains them; the last middle stage keeps its expert layers, so the step does not drop below it.
        var scenario = Qwen(8) with { Plan = Qwen(8).Plan with { PipelineParallelism = 8, VirtualStages = 1 } };
        double Step(int dense) => AnalyticalEngine.SimulateStep(scenario with { Model = scenario.Model with { FeedForwardSize = 1024, MixtureOfExperts = scenario.Model.MixtureOfExperts! with { DenseLayers = dense } } }).StepTime.Seconds;
        Assert.Equal(Step(13), Step(20), 9);
    }

    [Fact]
    public void HybridSharding_StillShardsTheExperts()
    {
        var scenario = Qwen(8);
        var full = AnalyticalEngine.SimulateStep(scenario);
        var hybrid = AnalyticalEngine.SimulateStep(scenario with { Plan = scenario.Plan with { ShardingGroup = scenario.Plan.GradientReplicas } });
        Assert.Equal(full.Memory!.OptimizerState, hybrid.Memory!.OptimizerState);
    }
}
