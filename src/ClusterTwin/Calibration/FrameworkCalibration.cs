using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Calibration;

/// <summary>A framework's fitted overheads, with their errors.</summary>
/// <param name="LayerOverhead">The fitted time per layer per iteration.</param>
/// <param name="RequestOverhead">The fitted time each request spends outside the chips before its first token (zero where no case measured a latency it shows in).</param>
/// <param name="Fit">How they were fitted: the cases, the figures and the errors.</param>
public sealed record FrameworkCalibrationResult(Duration LayerOverhead, Duration RequestOverhead, FrameworkFit Fit);

/// <summary>
/// Fits a serving framework's two free constants to every figure of the published runs that used it
/// (docs/serving.md#calibration): the time it adds to each layer of each iteration beyond the roofline (launches,
/// synchronizations, small-message collective latency), and the time each request spends in the server's front end
/// (the HTTP server, tokenization, the scheduler's first look) before the chips see it, which adds to the time to first
/// token and the end-to-end latency and to nothing else:
/// <list type="number">
/// <item>simulate each case at every layer overhead on a grid of 0 to 400 us in 5 us steps;</item>
/// <item>shift its first-token and end-to-end figures by every request overhead on a grid of 0 to 100 ms in 0.5 ms steps (no simulation needed: the front end does not occupy the chips);</item>
/// <item>take the pair with the least mean absolute error over all the cases' figures (throughputs and latencies alike);</item>
/// <item>for each case, refit without it and predict it: the held-out error.</item>
/// </list>
/// Everything else (batch limits, memory share, scheduling) is the framework's published settings, not fitted.
/// </summary>
public static class FrameworkCalibration
{
    /// <summary>The layer overheads tried, in microseconds.</summary>
    public static ImmutableArray<double> Grid { get; } = [.. Enumerable.Range(0, 81).Select(step => step * 5.0)];

    /// <summary>The request overheads tried, in milliseconds.</summary>
    public static ImmutableArray<double> RequestGrid { get; } = [.. Enumerable.Range(0, 201).Select(step => step * 0.5)];

    /// <summary>Fits <paramref name="framework"/> to the serving cases that name it; null when none does.</summary>
    public static FrameworkCalibrationResult? Fit(ServingFramework framework, IEnumerable<ServingValidationCase> cases, string procedure)
    {
        ArgumentNullException.ThrowIfNull(framework);
        var own = cases.Where(item => item.Scenario.Pools.Any(pool => pool.Framework?.Id == framework.Id)).ToArray();
        if (own.Length == 0)
        {
            return null;
        }

        // predicted[case][layer grid point] = the case's figures at that layer overhead and no request overhead.
        var predicted = new double[own.Length][][];
        Parallel.For(0, own.Length, index => predicted[index] = [.. Grid.Select(overhead => Figures(own[index], framework, overhead))]);
        var shifts = own.Any(item => item.Measurements.Any(measurement => Shifted(measurement.Measure))) ? RequestGrid.Length : 1;
        double[] Errors(int item, int layer, int request) => [.. own[item].Measurements.Select((measurement, figure) =>
            Math.Abs((predicted[item][layer][figure] + (Shifted(measurement.Measure) ? RequestGrid[request] / 1000 : 0) - measurement.Value) / measurement.Value * 100))];
        (int Layer, int Request) Best(IEnumerable<int> included)
        {
            var items = included.ToArray();
            var (best, least) = ((0, 0), double.MaxValue);
            for (var layer = 0; layer < Grid.Length; layer++)
            {
                for (var request = 0; request < shifts; request++)
                {
                    var all = items.SelectMany(item => Errors(item, layer, request)).ToArray();
                    var mean = all.Length == 0 ? 0 : all.Average();
                    if (mean < least)
                    {
                        (best, least) = ((layer, request), mean);
                    }
                }
            }

            return best;
        }

        var (layerBest, requestBest) = Best(Enumerable.Range(0, own.Length));
        var fitted = Enumerable.Range(0, own.Length).SelectMany(item => Errors(item, layerBest, requestBest)).ToArray();
        double? heldOut = null;
        if (own.Length > 1)
        {
            // Each case predicted by the fit of the others.
            heldOut = Enumerable.Range(0, own.Length).SelectMany(item =>
            {
                var (layer, request) = Best(Enumerable.Range(0, own.Length).Where(other => other != item));
                return Errors(item, layer, request);
            }).Average();
        }

        var fit = new FrameworkFit(procedure, [.. own.Select(item => item.Id).Order(StringComparer.Ordinal)], fitted.Length, fitted.Average(), heldOut);
        return new FrameworkCalibrationResult(Duration.FromSeconds(Grid[layerBest] * 1e-6), Duration.FromSeconds(RequestGrid[requestBest] / 1000), fit);
    }

    /// <summary>Whether a request overhead shifts the figure: the time to first token and the end-to-end latency.</summary>
    public static bool Shifted(ServingMeasure measure) => measure is ServingMeasure.TimeToFirstTokenMedian or ServingMeasure.TimeToFirstTokenP99 or ServingMeasure.EndToEndMedian;

    /// <summary>The YAML lines of fitted overheads and their fit, which replace the file's <c>layer_overhead</c>, <c>request_overhead</c> and <c>fit</c>.</summary>
    public static IEnumerable<string> Block(FrameworkCalibrationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
        var fit = result.Fit;
        yield return $"layer_overhead: {Number(result.LayerOverhead.Seconds * 1e6)} us   # written by clustertwin calibrate-serving; do not edit by hand";
        yield return $"request_overhead: {Number(result.RequestOverhead.Seconds * 1e3)} ms";
        yield return "fit:";
        yield return $"  procedure: \"{fit.Procedure}\"";
        yield return $"  fitted_on: [{string.Join(", ", fit.FittedOn)}]";
        yield return $"  figures: {fit.Figures}";
        yield return $"  mean_absolute_error_percent: {Number(fit.MeanAbsoluteErrorPercent)}";
        if (fit.HeldOutMeanAbsoluteErrorPercent is { } heldOut)
        {
            yield return $"  held_out_mean_absolute_error_percent: {Number(heldOut)}   # each case predicted by the fit of the others";
        }
    }

    private static double[] Figures(ServingValidationCase item, ServingFramework framework, double overheadMicroseconds)
    {
        var overhead = Duration.FromSeconds(overheadMicroseconds * 1e-6);
        var result = item.Scenario.Run(deployment => deployment.Framework?.Id == framework.Id ? deployment with { LayerOverhead = overhead, RequestOverhead = Duration.Zero } : deployment);
        return [.. item.Measurements.Select(measurement => measurement.Measure.Of(result))];
    }
}
