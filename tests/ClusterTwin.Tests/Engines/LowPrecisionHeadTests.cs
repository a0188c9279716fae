using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Engines;

/// <summary>
/// What a low-precision recipe keeps in BF16 (the output head), Nemotron's squared-ReLU block, and the calibration
/// rule that keeps the attention level at its curves where no fitted run spends much of its work in attention.
/// </summary>
public class LowPrecisionHeadTests
{
    private static ClusterTwin.Scenarios.Scenario Case(string id) =>
        ValidationCaseLoader.Load(Repository.Path("validation", "cases", id + ".yaml"), Repository.Catalog).Scenario;

    [Fact]
    public void TheOutputHead_RunsAtTheBf16Rate_UnderFp8()
    {
        var scenario = Case("nemo2407-h100-nemotron-8b-64gpu");
        Assert.Equal(Precision.Fp8, scenario.Job.Precision);
        var chip = scenario.Cluster.Chip;
        var (fp8, bf16) = (chip.PeakRate(Precision.Fp8)!.Value, chip.PeakRate(Precision.Bf16)!.Value);
        var head = Assert.Single(LayerKernels.OutputHead(scenario.Model, scenario.Job, scenario.Plan), kernel => kernel.Kind == KernelKind.Matrix);
        Assert.True(head.KeptInBf16);

        // Under FP8 the head costs what it costs under BF16; a multiply of the layers runs twice as fast.
        var underFp8 = new KernelCost(fp8, bf16, chip.MemoryBandwidth.Value, scenario.Efficiency);
        var underBf16 = new KernelCost(bf16, bf16, chip.MemoryBandwidth.Value, scenario.Efficiency);
        Assert.Equal(underBf16.Forward(head), underFp8.Forward(head));
        var layer = head with { KeptInBf16 = false };
        Assert.True(underFp8.Forward(layer) < underBf16.Forward(layer) * 0.6, $"{underFp8.Forward(layer)} against {underBf16.Forward(layer)}");
    }

    [Fact]
    public void SquaredRelu_IsReadFromTheCatalogue_AndCostsAsAGeluBlock()
    {
        var scenario = Case("nemo2407-h100-nemotron-8b-64gpu");
        Assert.Equal(FeedForwardActivation.SquaredRelu, scenario.Model.Activation);
        Assert.Equal(2, scenario.Model.FeedForwardMatrices);
        var asGelu = scenario with { Model = scenario.Model with { Activation = FeedForwardActivation.Gelu } };
        Assert.Equal(asGelu.StepTime(), scenario.StepTime());
        Assert.Contains(LayerKernels.Forward(scenario.Model, scenario.Job, scenario.Plan), kernel => kernel.Name.Contains("squared ReLU", StringComparison.Ordinal));
    }

    [Fact]
    public void AnUnknownActivation_IsACatalogueError_ThatListsTheKnownOnes()
    {
        var error = CatalogEdits.LoadWithChange("models/nemotron3-8b.yaml", "feed_forward_activation: squared-relu", "feed_forward_activation: relu2");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("feed_forward_activation", diagnostic.Field);
        Assert.Contains("squared-relu", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RunsWithLittleAttention_LeaveTheAttentionLevelAtItsCurves()
    {
        // Hopper's runs without the long-sequence table: none spends 30% of its work in attention.
        var hopper = Repository.Catalog.Efficiencies["nvidia-hopper"];
        var result = EfficiencyCalibration.Fit(hopper, Repository.TrainingCases, ["nemo-long-sequence-24.03"], "test");
        Assert.All(result.Fitted, item => Assert.True(ClusterTwin.Engines.Analytical.AnalyticalEngine.AttentionShare(item.Scenario.Model, item.Scenario.Job) < EfficiencyCalibration.AttentionDeterminingShare, item.Id));
        Assert.Equal(1.0, result.Fit.AttentionScale);

        // With them, the attention level is fitted.
        Assert.NotEqual(1.0, EfficiencyCalibration.Fit(hopper, Repository.TrainingCases, [], "test").Fit.AttentionScale);
    }

    [Fact]
    public void AOneFactorFit_OnMeasuredAttention_ScalesTheMultipliesAlone_ButOnCarriedAttentionBothTogether()
    {
        // GB300: three runs, none 30% attention, on attention curves timed on a GB300: attention at the kernels' speed.
        var ultra = EfficiencyCalibration.Fit(Repository.Catalog.Efficiencies["nvidia-blackwell-ultra"], Repository.TrainingCases, [], "test");
        Assert.True(ultra.Fitted.Length < EfficiencyCalibration.JointFitBelow);
        Assert.Equal(1.0, ultra.Fit.AttentionScale);
        Assert.NotEqual(1.0, ultra.Fit.MatrixScale);

        // The same family and runs with its attention curve not timed (no kernels block): one factor scales both.
        var untimed = EfficiencyCalibration.Fit(Repository.Catalog.Efficiencies["nvidia-blackwell-ultra"] with { MeasuredOn = null }, Repository.TrainingCases, [], "test");
        Assert.Equal(untimed.Fit.MatrixScale, untimed.Fit.AttentionScale);
        Assert.NotEqual(1.0, untimed.Fit.AttentionScale);

        // Trainium1: four runs on A100's carried-over curves: one factor keeps A100's ratio of the two levels.
        var trainium = Repository.Catalog.Efficiencies["aws-neuroncore-v2"];
        var ampere = Repository.Catalog.Efficiencies["nvidia-ampere"].Fit;
        var carried = EfficiencyCalibration.Fit(trainium, Repository.TrainingCases, [], "test").Fit;
        Assert.Equal(ampere.MatrixScale / ampere.AttentionScale, carried.MatrixScale / carried.AttentionScale, 0.02);
    }
}
