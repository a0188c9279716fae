using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using CsCheck;

namespace ClusterTwin.Tests.Engines;

public class AnalyticalEngineTests
{
    private static readonly string[] Examples = ["gpt3-175b-h100-1024", "llama3-70b-trn2-ultraserver", "llama3-405b-trainium3-1m"];

    private static readonly Gen<Scenario> AnyExample = Gen.Int[0, Examples.Length - 1].Select(index => Examples[index]).Select(Repository.Example);

    private static readonly Gen<Scenario> AnyPlanVariant =
        Gen.Select(AnyExample, Gen.Enum<RecomputePolicy>(), Gen.Int[0, 3], Gen.Bool, Gen.Bool)
            .Select((scenario, recompute, zero, sequenceParallel, overlap) => scenario.WithPlan(plan =>
                plan with { Recompute = recompute, ZeroStage = zero, SequenceParallelism = sequenceParallel, OverlapGradientReduction = overlap }));

    [Fact]
    public void Breakdown_AddsUpToTheStepTime() =>
        AnyPlanVariant.Sample(scenario =>
        {
            var result = AnalyticalEngine.Simulate(scenario);
            var parts = result.Breakdown!.Parts().Sum(part => part.Time.Seconds);
            return Math.Abs(parts - result.StepTime.Seconds) <= 1e-9 * result.StepTime.Seconds && result.StepTime.Seconds > 0;
        }, iter: 60);

    [Fact]
    public void MoreScaleUpBandwidth_IsNeverSlower() =>
        Gen.Select(AnyPlanVariant, Gen.Double[1, 10]).Sample((scenario, factor) =>
            scenario.WithScaleUpBandwidth(factor).StepTime() <= scenario.StepTime(), iter: 60);

    [Fact]
    public void MoreScaleOutBandwidth_IsNeverSlower() =>
        Gen.Select(AnyPlanVariant, Gen.Double[1, 10]).Sample((scenario, factor) =>
            scenario.WithScaleOutBandwidth(factor).StepTime() <= scenario.StepTime(), iter: 60);

    [Fact]
    public void MoreMemoryBandwidth_IsNeverSlower() =>
        Gen.Select(AnyPlanVariant, Gen.Double[1, 10]).Sample((scenario, factor) =>
            scenario.WithMemoryBandwidth(factor).StepTime() <= scenario.StepTime(), iter: 60);

    [Fact]
    public void MoreFlops_IsNeverSlower() =>
        Gen.Select(AnyPlanVariant, Gen.Double[1, 10]).Sample((scenario, factor) =>
            scenario.WithPeakRate(factor).StepTime() <= scenario.StepTime(), iter: 60);

    [Fact]
    public void MoreFlops_MakesAComputeBoundStepFaster()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        Assert.True(scenario.WithPeakRate(2).StepTime() < scenario.StepTime() * 0.9);
    }

    [Fact]
    public void Recompute_CostsTime_AndSavesMemory()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var none = AnalyticalEngine.Simulate(scenario.WithPlan(plan => plan with { Recompute = RecomputePolicy.None }));
        var full = AnalyticalEngine.Simulate(scenario.WithPlan(plan => plan with { Recompute = RecomputePolicy.Full }));
        Assert.True(full.StepTime > none.StepTime);
        Assert.True(full.Memory!.Total < none.Memory!.Total);
        Assert.True(full.HardwareFlopsUtilization > full.ModelFlopsUtilization);
    }

    [Fact]
    public void Interleaving_ShrinksThePipelineBubble()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var plain = AnalyticalEngine.Simulate(scenario.WithPlan(plan => plan with { VirtualStages = 1 }));
        var interleaved = AnalyticalEngine.Simulate(scenario);
        Within.Relative(plain.Breakdown!.PipelineBubble.Seconds / 4, interleaved.Breakdown!.PipelineBubble.Seconds, 0.05);
    }

    [Fact]
    public void TensorCommunicationOverlap_HidesItBehindTheProjections()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var exposed = AnalyticalEngine.Simulate(scenario);
        var overlapped = AnalyticalEngine.Simulate(scenario.WithPlan(plan => plan with { OverlapTensorCommunication = true }));
        Assert.True(overlapped.Breakdown!.TensorParallelCommunication < exposed.Breakdown!.TensorParallelCommunication * 0.5);
        Assert.Equal(exposed.Breakdown.Compute, overlapped.Breakdown.Compute);
    }

    [Fact]
    public void Simulation_IsDeterministic_BitForBit()
    {
        var first = AnalyticalEngine.Simulate(Repository.Example("llama3-405b-trainium3-1m"));
        var second = AnalyticalEngine.Simulate(Repository.Example("llama3-405b-trainium3-1m"));
        Assert.Equal(BitConverter.DoubleToInt64Bits(first.StepTime.Seconds), BitConverter.DoubleToInt64Bits(second.StepTime.Seconds));
        Assert.Equal(first.Breakdown, second.Breakdown);
        Assert.Equal(first.Memory, second.Memory);
    }

    [Fact]
    public void PlanThatDoesNotDivide_IsAResultWithReasons_NotAnException()
    {
        var scenario = Repository.Example("llama3-70b-trn2-ultraserver").WithPlan(plan => plan with { TensorParallelism = 3, VirtualStages = 3 });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.False(result.Valid);
        Assert.False(result.Fits);
        Assert.Contains(result.Problems, problem => problem.Contains("does not divide the 64 attention heads", StringComparison.Ordinal));
        Assert.Contains(result.Problems, problem => problem.Contains("virtual stages 3 do not split pipeline", StringComparison.Ordinal) && problem.Contains("most loaded rank", StringComparison.Ordinal));
        Assert.Contains(result.Problems, problem => problem.Contains("chips, but the cluster has 1024", StringComparison.Ordinal));
    }

    [Fact]
    public void PlanThatDoesNotFit_IsTimed_AndSaysWhy()
    {
        var scenario = Repository.Example("llama3-70b-trn2-ultraserver").WithPlan(plan => plan with { Recompute = RecomputePolicy.None, ZeroStage = 0, MicroBatchSize = 4 });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.True(result.Valid);
        Assert.False(result.Fits);
        Assert.True(result.StepTime.Seconds > 0);
        Assert.Contains(result.Problems, problem => problem.Contains("per chip, the AWS Trainium2 has 96 GiB", StringComparison.Ordinal));
    }

    [Fact]
    public void UnsupportedPrecision_IsAReason()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var a100 = Repository.Catalog.Systems["nvidia-dgx-a100"];
        var onA100 = scenario with { Cluster = scenario.Cluster with { System = a100 }, Job = scenario.Job with { Precision = ClusterTwin.Hardware.Precision.Fp8 } };
        var result = AnalyticalEngine.Simulate(onA100);
        Assert.Contains(result.Problems, problem => problem.Contains("has no published fp8 rate", StringComparison.Ordinal));
    }

    [Fact]
    public void ModelFlops_MatchNarayananEquation3_ForGpt()
    {
        // 72 B s l h^2 (1 + s/(6h) + V/(12 h l)) per step (Narayanan et al. 2021).
        var model = Repository.Catalog.Models["megatron-175b"];
        var job = new ClusterTwin.Workloads.TrainingJob(2048, 1536, null, ClusterTwin.Hardware.Precision.Bf16, ClusterTwin.Workloads.AttentionKernel.Flash);
        double batch = 1536, s = 2048, l = 96, h = 12288, v = 51200;
        var expected = 72 * batch * s * l * h * h * (1 + (s / (6 * h)) + (v / (12 * h * l)));
        Within.Relative(expected, AnalyticalEngine.ModelFlops(model, job).Operations, 1e-9);
    }
}
