using System.Collections.Immutable;
using ClusterTwin.Calibration;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Validation;

public class ServingValidationTests
{
    private static readonly Lazy<ImmutableArray<ServingValidationCase>> Cases = new(() =>
        ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), Repository.Catalog).Serving);

    [Fact]
    public void EveryPublishedInferenceRun_IsACase_AndItsThroughputIsPredictedWithinItsBar()
    {
        Assert.Equal(26, Cases.Value.Length);
        var summary = ServingValidationSummary.Of(ServingValidationRun.Run(Cases.Value));
        var throughput = summary.ByKind.Single(group => group.Name == "throughput");
        Assert.True(throughput.Count >= 20);
        Assert.True(throughput.MeanAbsoluteErrorPercent <= 8, $"throughput mean absolute error {throughput.MeanAbsoluteErrorPercent:0.0}%");
        Assert.True(throughput.MaximumAbsoluteErrorPercent <= 20, $"throughput worst error {throughput.MaximumAbsoluteErrorPercent:0.0}%");
        Assert.All(summary.Outcomes, outcome => Assert.True(double.IsFinite(outcome.Predicted) && outcome.PredictedLow <= outcome.Predicted && outcome.Predicted <= outcome.PredictedHigh));

        // The bands come from each framework's fitted residuals: they should cover most measurements, not all.
        Assert.InRange(summary.Overall.BandCoverage, 0.7, 0.95);
    }

    [Fact]
    public void EachFrameworksFit_NamesExactlyTheCasesThatUseIt()
    {
        foreach (var framework in Repository.Catalog.Frameworks.Values)
        {
            var users = Cases.Value.Where(item => item.Scenario.Deployment.Framework?.Id == framework.Id).Select(item => item.Id).Order(StringComparer.Ordinal);
            Assert.Equal(users, framework.Fit?.FittedOn ?? []);
        }
    }

    [Fact]
    public void Calibration_RecoversAKnownOverhead()
    {
        // The four Trainium1 cases, their "measurements" the simulation at 60 us per layer, 7 ms per request and
        // multiplies at 0.8 of the curves' rate: the fit finds all three, and each case left out is predicted by the
        // fit of the other three.
        var truth = Duration.FromSeconds(60e-6);
        var front = Duration.FromSeconds(7e-3);
        var synthetic = Cases.Value.Where(item => item.Id.StartsWith("neuron-trn1-infer-", StringComparison.Ordinal)).Select(item =>
        {
            var result = ServingSimulator.Run(item.Scenario.Deployment with { LayerOverhead = truth, RequestOverhead = front, MatrixScale = 0.8 }, item.Scenario.Workload);
            return item with { Measurements = [.. item.Measurements.Select(measurement => measurement with { Value = measurement.Measure.Of(result) })] };
        }).ToArray();
        Assert.Equal(4, synthetic.Length);
        var fit = FrameworkCalibration.Fit(Repository.Catalog.Frameworks["transformers-neuronx"], synthetic, "test", [0, 30, 60, 90, 120], [0.8, 1.0, 1.2]);
        Assert.NotNull(fit);
        Assert.Equal(truth.Seconds, fit.LayerOverhead.Seconds, 1e-9);
        Assert.Equal(front.Seconds, fit.RequestOverhead.Seconds, 1e-3);
        Assert.Equal(0.8, fit.MatrixScale, 1e-9);

        // The fit shifts percentiles read from 1% histograms by the request overhead: exact to about a percent.
        Assert.True(fit.Fit.MeanAbsoluteErrorPercent < 1, $"{fit.Fit.MeanAbsoluteErrorPercent}%");
        Assert.True(fit.Fit.HeldOutMeanAbsoluteErrorPercent < 1, $"{fit.Fit.HeldOutMeanAbsoluteErrorPercent}%");
        Assert.InRange(fit.Fit.ResidualLow!.Value, -0.01, 0.01);
        Assert.InRange(fit.Fit.ResidualHigh!.Value, -0.01, 0.01);
    }
}
