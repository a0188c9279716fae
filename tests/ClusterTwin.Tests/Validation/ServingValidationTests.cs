using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Calibration;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Validation;

public class ServingValidationTests
{
    private static readonly Lazy<ImmutableArray<ServingValidationCase>> Cases = new(() =>
        ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), Repository.Catalog).Serving);

    private static readonly Lazy<ImmutableArray<ServingOutcome>> Outcomes = new(() => ServingValidationRun.Run(Cases.Value));

    [Fact]
    public void EveryPublishedInferenceRun_IsACase_AndItsThroughputIsPredictedWithinItsBar()
    {
        Assert.Equal(26, Cases.Value.Length);
        var summary = ServingValidationSummary.Of(Outcomes.Value);
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
        // The four Trainium1 cases, their "measurements" the simulation at 60 us per layer, 7 ms per request (11 ms
        // at its P99) and multiplies at 0.8 of the curves' rate: the fit finds all four, and each case left out is
        // predicted by the fit of the other three.
        var truth = Duration.FromSeconds(60e-6);
        var front = Duration.FromSeconds(7e-3);
        var frontP99 = Duration.FromSeconds(11e-3);
        var synthetic = Cases.Value.Where(item => item.Id.StartsWith("neuron-trn1-infer-", StringComparison.Ordinal)).Select(item =>
        {
            var result = ServingSimulator.Run(item.Scenario.Deployment with { LayerOverhead = truth, RequestOverhead = front, RequestOverheadP99 = frontP99, MatrixScale = 0.8 }, item.Scenario.Workload);
            return item with { Measurements = [.. item.Measurements.Select(measurement => measurement with { Value = measurement.Measure.Of(result) })] };
        }).ToArray();
        Assert.Equal(4, synthetic.Length);
        var fit = FrameworkCalibration.Fit(Repository.Catalog.Frameworks["transformers-neuronx"], synthetic, "test", [0, 30, 60, 90, 120], [0.8, 1.0, 1.2]);
        Assert.NotNull(fit);
        Assert.Equal(truth.Seconds, fit.Constants.LayerOverhead.Seconds, 1e-9);
        Assert.Equal(front.Seconds, fit.Constants.RequestOverhead.Seconds, 1e-3);
        Assert.Equal(frontP99.Seconds, fit.Constants.RequestOverheadP99!.Value.Seconds, 0.5e-3);
        Assert.Equal(0.8, fit.Constants.MatrixScale, 1e-9);

        // The fit shifts percentiles read from 1% histograms by the request overhead: exact to about a percent.
        Assert.True(fit.Fit.MeanAbsoluteErrorPercent < 1, $"{fit.Fit.MeanAbsoluteErrorPercent}%");
        Assert.True(fit.Fit.HeldOutMeanAbsoluteErrorPercent < 1, $"{fit.Fit.HeldOutMeanAbsoluteErrorPercent}%");
        Assert.InRange(fit.Fit.ResidualLow!.Value, -0.01, 0.01);
        Assert.InRange(fit.Fit.ResidualHigh!.Value, -0.01, 0.01);

        // Each case's held-out constants, fitted on the other three, are the same truth.
        Assert.Equal(synthetic.Select(item => item.Id).Order(StringComparer.Ordinal), fit.HeldOut.Keys.Order(StringComparer.Ordinal));
        Assert.All(fit.HeldOut.Values, constants =>
        {
            Assert.Equal(truth.Seconds, constants.LayerOverhead.Seconds, 1e-9);
            Assert.Equal(front.Seconds, constants.RequestOverhead.Seconds, 1e-3);
            Assert.Equal(frontP99.Seconds, constants.RequestOverheadP99!.Value.Seconds, 0.5e-3);
            Assert.Equal(0.8, constants.MatrixScale, 1e-9);
        });
    }

    [Fact]
    public void TheFitsP99Shift_HoldsForEveryCaseWithAP99FirstToken_ItsRequestsAlikeOnTheChips()
    {
        // calibrate-serving shifts a P99 first token by the front end's P99, exact where every request of the case meets
        // the same time on the chips: each such case, run without a front end, has one first-token time (to the 1% bins).
        var withP99 = Cases.Value.Where(item => item.Measurements.Any(measurement => measurement.Measure == ServingMeasure.TimeToFirstTokenP99)).ToArray();
        Assert.NotEmpty(withP99);
        foreach (var item in withP99)
        {
            var result = item.Scenario.Run(deployment => deployment with { RequestOverhead = Duration.Zero, RequestOverheadP99 = null });
            Assert.Equal(result.TimeToFirstToken.P50, result.TimeToFirstToken.P99, result.TimeToFirstToken.P50 * 0.011);
        }
    }

    [Fact]
    public void TheFitsBlock_WritesTheFrontEndsP99_OnlyWhereItSpreads()
    {
        var fit = new FrameworkFit("test", ["a", "b"], 4, 1, 2, -0.1, 0.1);
        var spread = new ServingFitConstants(Duration.FromSeconds(1e-4), Duration.FromSeconds(6e-3), 0.4, Duration.FromSeconds(10.5e-3));
        var lines = FrameworkCalibration.Block(new FrameworkCalibrationResult(spread, fit, ImmutableDictionary<string, ServingFitConstants>.Empty
            .Add("a", spread).Add("b", spread with { RequestOverheadP99 = null }))).ToArray();
        Assert.Contains(lines, line => line.StartsWith("request_overhead_p99: 10.5 ms", StringComparison.Ordinal));
        Assert.Contains("  a: {layer_overhead: 100 us, request_overhead: 6 ms, request_overhead_p99: 10.5 ms, matrix_scale: 0.4}", lines);
        Assert.Contains("  b: {layer_overhead: 100 us, request_overhead: 6 ms, matrix_scale: 0.4}", lines);
        var fixedTime = FrameworkCalibration.Block(new FrameworkCalibrationResult(spread with { RequestOverheadP99 = null }, fit, ImmutableDictionary<string, ServingFitConstants>.Empty));
        Assert.DoesNotContain(fixedTime, line => line.Contains("request_overhead_p99", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCalibrationTableInTheServingGuide_ShowsTheCataloguesConstants()
    {
        // docs/serving.md lists each fitted framework's constants and errors: a refit must update the page too.
        var rows = File.ReadAllLines(Repository.Path("docs", "serving.md"))
            .SkipWhile(line => !line.StartsWith("| framework | layer overhead |", StringComparison.Ordinal)).Skip(2)
            .TakeWhile(line => line.StartsWith('|')).Select(line => line.Trim('|').Split('|').Select(cell => cell.Trim()).ToArray()).ToArray();
        var fitted = Repository.Catalog.Frameworks.Values.Where(framework => framework.Fit is not null).ToArray();
        Assert.Equal(fitted.Length, rows.Length);
        static string Percent(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + "%";
        static string Micro(Duration time) => (time.Seconds * 1e6).ToString("0.#", CultureInfo.InvariantCulture) + " us";
        foreach (var framework in fitted)
        {
            var row = Assert.Single(rows, cells => framework.Name.Contains(cells[0], StringComparison.Ordinal));
            var fit = framework.Fit!;
            Assert.Equal(Micro(framework.LayerOverhead), row[1]);
            var scale = framework.MatrixScale.ToString("0.###", CultureInfo.InvariantCulture);
            Assert.True(row[2] == scale || row[2].StartsWith(scale + " (", StringComparison.Ordinal), $"{framework.Id}: matrix factor {scale}, the page says {row[2]}");
            static string Milli(Duration time) => (time.Seconds * 1e3).ToString("0.#", CultureInfo.InvariantCulture) + " ms";
            var median = framework.RequestOverhead == Duration.Zero ? "0" : Milli(framework.RequestOverhead);
            Assert.Equal(framework.RequestOverheadP99 is { } p99 ? $"{median} (P99 {Milli(p99)})" : median, row[3]);
            Assert.Equal(fit.FittedOn.Length.ToString(CultureInfo.InvariantCulture), row[4]);
            Assert.Equal(Percent(fit.MeanAbsoluteErrorPercent), row[5]);
            Assert.Equal(Percent(fit.HeldOutMeanAbsoluteErrorPercent!.Value), row[6]);
        }
    }

    [Fact]
    public void HeldOutPredictions_UseEachCasesOwnConstants_AndAgreeWithTheFitsHeldOutError()
    {
        var outcomes = Outcomes.Value;
        foreach (var framework in Repository.Catalog.Frameworks.Values.Where(framework => framework.Fit is { FittedOn.Length: > 1 }))
        {
            // The calibration wrote constants for every case it fitted, and validate predicts each figure with them.
            Assert.Equal(framework.Fit!.FittedOn, framework.HeldOut.Keys.Order(StringComparer.Ordinal));
            var own = outcomes.Where(outcome => outcome.Case.Scenario.Pools.Any(pool => pool.Framework?.Id == framework.Id)).ToArray();
            Assert.All(own, outcome => Assert.True(outcome.HeldOutPredicted is { } value && double.IsFinite(value) && value > 0, $"{outcome.Case.Id} {outcome.Measure}"));

            // Their mean error is the one the fit reported (the fit shifts percentiles by the request overhead where
            // the simulation reruns: equal to a tenth of a point or so).
            var heldOut = own.Average(outcome => Math.Abs(outcome.HeldOutErrorPercent!.Value));
            Assert.Equal(framework.Fit.HeldOutMeanAbsoluteErrorPercent!.Value, heldOut, 0.2);
        }

        // Every framework has several cases, so every figure has a held-out prediction, summarized beside the fitted ones.
        var summary = ServingValidationSummary.Of(outcomes);
        Assert.Equal(summary.Overall.Count, summary.Overall.HeldOutCount);
        Assert.Equal(summary.Overall.Count, summary.ByKind.Sum(group => group.HeldOutCount));
    }

    [Fact]
    public void HeldOutPrediction_OfACaseNoFrameworkWasFittedOn_IsThePrediction()
    {
        // The supplementary Trn1 rows are out of Transformers NeuronX's fit: their held-out prediction is the
        // prediction.
        var supplementary = ValidationCaseLoader.LoadAll(Repository.Path("validation", "supplementary", "aws-neuron-trn1"), Repository.Catalog).Serving;
        Assert.NotEmpty(supplementary);
        Assert.All(supplementary, item => Assert.False(item.FrameworkFitted, item.Id));
        Assert.All(ServingValidationRun.Run(supplementary), outcome => Assert.Equal(outcome.Predicted, outcome.HeldOutPredicted));

        // A published row the fit used is held out with its own constants; were they missing, it would have none.
        // (Llama 3 8B at 8,064 output tokens, whose constants fitted without it differ from the fit's.)
        var fitted = Cases.Value.Single(item => item.Id == "neuron-trn1-infer-llama-3-8b-bs1-128-8064");
        Assert.True(fitted.FrameworkFitted);
        var published = ServingValidationRun.Run([fitted]).Single(outcome => outcome.Measure.Key() == "ttft_p50");
        Assert.NotEqual(published.Predicted, published.HeldOutPredicted!.Value, 6);
        var deployment = fitted.Scenario.Deployment;
        var withoutConstants = fitted with { Scenario = fitted.Scenario with { Deployment = deployment with { Framework = deployment.Framework! with { HeldOut = ImmutableDictionary<string, ServingFitConstants>.Empty } } } };
        Assert.All(ServingValidationRun.Run([withoutConstants]), outcome => Assert.Null(outcome.HeldOutPredicted));
    }
}
