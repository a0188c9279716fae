using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines;

public class NumberFormatTests
{
    [Theory]
    [InlineData("bf16", 2.0)]
    [InlineData("fp8", 1.0)]
    [InlineData("fp8-block", 1 + (4.0 / 128))]
    [InlineData("mxfp8", 1 + (1.0 / 32))]
    [InlineData("mxfp4", 0.5 + (1.0 / 32))]
    [InlineData("nvfp4", 0.5 + (1.0 / 16))]
    public void Formats_CarryTheirScalesInTheirSize(string key, double bytes) =>
        Assert.Equal(bytes, NumberFormat.All[key].BytesPerElement, 12);

    [Fact]
    public void Microscaling_OnAChipWithoutIt_IsAClearError()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var result = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Format = NumberFormat.All["mxfp8"] } });
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains("does not run mxfp8 in hardware", StringComparison.Ordinal));
    }

    [Fact]
    public void BlockwiseFp8_RunsOnAnyFp8Chip_AndCostsALittleMoreThanPerTensor()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var perTensor = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Format = NumberFormat.All["fp8"] } });
        var block = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Format = NumberFormat.All["fp8-block"] } });
        Assert.True(block.Valid);
        Assert.True(block.StepTime >= perTensor.StepTime);
        Assert.True(block.Memory!.Weights > perTensor.Memory!.Weights);
    }

    [Fact]
    public void Mxfp4_OnTrainium3_RunsAtTheFp4Rate_AndShrinksTheWeights()
    {
        var scenario = Repository.Example("llama3-405b-trainium3-1m");
        var mxfp8 = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Format = NumberFormat.All["mxfp8"] } });
        var mxfp4 = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { Format = NumberFormat.All["mxfp4"] } });
        Assert.True(mxfp8.Valid && mxfp4.Valid, string.Join("; ", mxfp8.Problems.Concat(mxfp4.Problems)));
        Within.Relative((0.5 + (1.0 / 32)) / (1 + (1.0 / 32)), mxfp4.Memory!.Weights.Count / mxfp8.Memory!.Weights.Count, 1e-9);
    }

    [Fact]
    public void SettingTheFormat_SetsThePrecision()
    {
        var job = Repository.Example("gpt3-175b-h100-1024").Job with { Format = NumberFormat.All["nvfp4"] };
        Assert.Equal(Precision.Fp4, job.Precision);
    }
}
