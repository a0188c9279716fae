using ClusterTwin.Engines.Analytical;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Validation;

/// <summary>
/// The comparisons the supplementary READMEs and docs/calibration.md draw between releases of NVIDIA's tables
/// (validation/supplementary/nemo-2.0/ and megatron-bridge-25.09/ against the published 25.11 rows), and Mixtral 8x7B
/// against its dense twin, Llama 3 8B.
/// </summary>
public class ReleaseComparisonTests
{
    private static ValidationCase Supplementary(string id) =>
        ValidationCaseLoader.Load(Repository.Path("validation", "supplementary", id.StartsWith("nemo", StringComparison.Ordinal) ? "nemo-2.0" : "megatron-bridge-25.09", id + ".yaml"), Repository.Catalog);

    private static ValidationCase Published(string id) => Repository.TrainingCases.Single(item => item.Id == id);

    [Fact]
    public void TheB200Llama3Row_Of25_02_IsThePublished25_11Scenario()
    {
        // The model sees one scenario; the two releases measured it 17.8% apart.
        var older = Supplementary("nemo2502-b200-llama3-8b-8gpu-fp8");
        var newer = Published("mbridge2511-b200-llama3-8b-8gpu-fp8-cs");
        Assert.Equal(AnalyticalEngine.Simulate(newer.Scenario).StepTime, AnalyticalEngine.Simulate(older.Scenario).StepTime);
        Within.Relative(1.178, newer.Measured / older.Measured, 0.005);
    }

    [Fact]
    public void TheB200Llama3Row_Of25_09_IsTheSameScenarioAgain()
    {
        var middle = Supplementary("mbridge2509-b200-llama3-8b-8gpu-fp8");
        var newer = Published("mbridge2511-b200-llama3-8b-8gpu-fp8-cs");
        Assert.Equal(AnalyticalEngine.Simulate(newer.Scenario).StepTime, AnalyticalEngine.Simulate(middle.Scenario).StepTime);
        Assert.True(middle.Measured < newer.Measured && middle.Measured > Supplementary("nemo2502-b200-llama3-8b-8gpu-fp8").Measured);
    }

    [Fact]
    public void TheH100Qwen3_30BLayout_MeasuredTwiceIn25_09What25_11Gives()
    {
        // The worst published mixture-of-experts miss: the same layout, token dropping in 25.09, dropless with the
        // all-to-all overlap in 25.11. The model moves 45% between the two; the measurements 99%.
        var older = Supplementary("mbridge2509-h100-qwen3_30b_a3b-16gpu-fp8");
        var newer = Published("mbridge2511-h100-qwen3_30b_a3b-16gpu-fp8-cs");
        Assert.Equal(newer.Scenario.Plan with { OverlapExpertCommunication = false }, older.Scenario.Plan);
        Within.Relative(1.99, older.Measured / newer.Measured, 0.01);
        var predicted = older.Predicted(AnalyticalEngine.Simulate(older.Scenario)) / newer.Predicted(AnalyticalEngine.Simulate(newer.Scenario));
        Within.Relative(1.45, predicted, 0.02);
    }

    [Fact]
    public void Mixtral8x7B_RunsLlama3_8BsMultiplies_TwiceOverPerToken()
    {
        // Each chip's one expert receives the tokens of eight chips' top-2 routing (16,384), Llama 3 8B's micro-batch
        // of 2 x 8,192: the same up projection, hidden 4,096 to 2 x 14,336.
        static Kernel UpProjection(ValidationCase item, bool expertLayer) => LayerKernels.Forward(item.Scenario.Model, item.Scenario.Job, item.Scenario.Plan, expertLayer)
            .Single(kernel => kernel.Kind == KernelKind.Matrix && kernel.Name.EndsWith("up projection", StringComparison.Ordinal));
        var mixtral = UpProjection(Supplementary("nemo2504-gb200-mixtral-8x7b-64gpu-fp8"), expertLayer: true);
        var llama = UpProjection(Supplementary("nemo2504-gb200-llama3-8b-8gpu-fp8"), expertLayer: false);
        Assert.Equal(llama.Work, mixtral.Work * mixtral.Repeats);
    }

    [Fact]
    public void TheMixtralRuns_DropTokensAtTheirAverageShare()
    {
        // MegatronTokenDropCallback: capacity factor 1.0, padded, so no expert computes more than its average share.
        foreach (var id in new[] { "nemo2502-b200-mixtral-8x7b-64gpu-fp8", "nemo2502-b200-mixtral-8x22b-256gpu-fp8", "nemo2504-gb200-mixtral-8x7b-64gpu-fp8", "nemo2504-gb200-mixtral-8x22b-256gpu-fp8" })
        {
            var scenario = Supplementary(id).Scenario;
            Assert.Equal(1.0, scenario.Job.ExpertCapacityFactor);
            Assert.False(scenario.Job.ForcedLoadBalance);
            Assert.Equal(1.0, LayerKernels.LoadImbalance(scenario.Model.MixtureOfExperts!, scenario.Job, scenario.Plan));
        }
    }
}
