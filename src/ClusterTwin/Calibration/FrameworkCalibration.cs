using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Numerics;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Calibration;

/// <summary>A framework's fitted constants, with their errors.</summary>
/// <param name="Constants">
/// The fitted time per layer per iteration, time each request spends outside the chips before its first token (zero
/// where no case measured a latency it shows in; its 99th percentile where a case measured a P99 first token) and
/// factor on the multiplies' compute rate.
/// </param>
/// <param name="Fit">How they were fitted: the cases, the figures and the errors.</param>
/// <param name="HeldOut">The constants fitted without each case, by its id (none with one case).</param>
public sealed record FrameworkCalibrationResult(ServingFitConstants Constants, FrameworkFit Fit, ImmutableDictionary<string, ServingFitConstants> HeldOut);

/// <summary>
/// Fits a serving framework's three free constants, and a fourth where its runs measured a P99 first token, to every
/// figure of the published runs that used it
/// (docs/serving.md#calibration):
/// <list type="bullet">
/// <item>the time it adds to each layer of each iteration beyond the roofline (launches, synchronizations,
/// small-message collective latency), which binds decoding at small batches;</item>
/// <item>a factor on its multiplies' compute rate against the chip family's training-calibrated curves (its own
/// kernels), which binds prefill;</item>
/// <item>the time each request spends in its front end (the HTTP server, tokenization, the scheduler's first look)
/// before the chips see it, which adds to the time to first token and the end-to-end latency and to nothing else;</item>
/// <item>where a case measured a P99 first token, that front end's 99th percentile (its spread: <see cref="FrontEnd"/>):
/// requests alike in every other way differ by it alone at the tail.</item>
/// </list>
/// The procedure:
/// <list type="number">
/// <item>simulate each case at every layer overhead on a grid of 0 to 400 us in 10 us steps, at every matrix factor
/// from 0.3 to 1.5 in steps of 0.1; a framework with fewer than <see cref="CasesForMatrixScale"/> cases keeps the
/// factor at 1, too few to hold a third constant out, and gets 5 us steps;</item>
/// <item>shift its first-token and end-to-end figures by every request overhead on a grid of 0 to 100 ms in 0.5 ms
/// steps, and its P99 first tokens by that overhead and every spread of 0 to 40 ms in 0.5 ms steps beyond it (no
/// simulation needed: the front end does not occupy the chips; the P99's shift is exact where the case's requests
/// meet the same time on the chips, as in every published case with a P99, and validate computes the distribution
/// whole);</item>
/// <item>take the constants with the least mean absolute error over all the cases' figures (throughputs and latencies
/// alike; on a tie, the factor nearest 1, then the least layer overhead, then the least request overhead, then the
/// least spread);</item>
/// <item>for each case, refit without it and predict it: the held-out error (on the same grids: whether the factor is
/// fitted is decided once, on all the framework's cases); those constants are kept by case, for validate.</item>
/// </list>
/// Everything else (batch limits, memory share, scheduling) is the framework's published settings, not fitted.
/// </summary>
public static class FrameworkCalibration
{
    /// <summary>The fewest cases a framework needs for its matrix factor to be fitted rather than left at 1.</summary>
    public const int CasesForMatrixScale = 5;

    /// <summary>The layer overheads tried with the matrix factor, in microseconds.</summary>
    public static ImmutableArray<double> LayerGrid { get; } = [.. Enumerable.Range(0, 41).Select(step => step * 10.0)];

    /// <summary>The layer overheads tried with the matrix factor at 1, in microseconds.</summary>
    public static ImmutableArray<double> FineLayerGrid { get; } = [.. Enumerable.Range(0, 81).Select(step => step * 5.0)];

    /// <summary>The matrix factors tried, nearest 1 first (the tie-break).</summary>
    public static ImmutableArray<double> MatrixGrid { get; } = [1.0, 0.9, 1.1, 0.8, 1.2, 0.7, 1.3, 0.6, 1.4, 0.5, 1.5, 0.4, 0.3];

    /// <summary>The request overheads tried, in milliseconds.</summary>
    public static ImmutableArray<double> RequestGrid { get; } = [.. Enumerable.Range(0, 201).Select(step => step * 0.5)];

    /// <summary>The front end's 99th percentiles tried, in milliseconds beyond its median.</summary>
    public static ImmutableArray<double> SpreadGrid { get; } = [.. Enumerable.Range(0, 81).Select(step => step * 0.5)];

    /// <summary>
    /// Fits <paramref name="framework"/> to the serving cases that name it, on the standard grids or those given; null
    /// when no case names it.
    /// </summary>
    public static FrameworkCalibrationResult? Fit(ServingFramework framework, IEnumerable<ServingValidationCase> cases, string procedure,
        ImmutableArray<double>? layerGrid = null, ImmutableArray<double>? matrixGrid = null)
    {
        ArgumentNullException.ThrowIfNull(framework);
        var own = cases.Where(item => item.Scenario.Pools.Any(pool => pool.Framework?.Id == framework.Id)).ToArray();
        if (own.Length == 0)
        {
            return null;
        }

        var enough = own.Length >= CasesForMatrixScale;
        var layers = layerGrid ?? (enough ? LayerGrid : FineLayerGrid);
        var matrices = matrixGrid ?? (enough ? MatrixGrid : [1.0]);
        var points = (from matrix in matrices from layer in layers select (Layer: layer, Matrix: matrix)).ToArray();

        // predicted[case][point][figure]: the case's figures at that layer overhead and matrix factor, no request overhead.
        var predicted = new double[own.Length][][];
        Parallel.For(0, own.Length, index => predicted[index] = [.. points.Select(point => Figures(own[index], framework, point.Layer, point.Matrix))]);
        var shifts = own.Any(item => item.Measurements.Any(measurement => Shifted(measurement.Measure))) ? RequestGrid.Length : 1;
        var spreads = own.Any(item => item.Measurements.Any(measurement => measurement.Measure == ServingMeasure.TimeToFirstTokenP99)) ? SpreadGrid.Length : 1;

        // The front end's shift of a figure: its median, and at the first token's P99 its 99th percentile.
        double Shift(ServingMeasure measure, int request, int spread) =>
            !Shifted(measure) ? 0 : (RequestGrid[request] + (measure == ServingMeasure.TimeToFirstTokenP99 ? SpreadGrid[spread] : 0)) / 1000;

        double Error(int item, int point, int request, int spread, int figure)
        {
            var measurement = own[item].Measurements[figure];
            return Math.Abs((predicted[item][point][figure] + Shift(measurement.Measure, request, spread) - measurement.Value) / measurement.Value * 100);
        }

        IEnumerable<double> Errors(int item, Fitted at) =>
            Enumerable.Range(0, own[item].Measurements.Length).Select(figure => Error(item, at.Point, at.Request, at.Spread, figure));

        // Each case's figures apart: the spread moves its P99 first tokens alone, so the others' errors are summed once
        // per request overhead.
        var tails = own.Select(item => Enumerable.Range(0, item.Measurements.Length).Where(figure => item.Measurements[figure].Measure == ServingMeasure.TimeToFirstTokenP99).ToArray()).ToArray();
        var bodies = own.Select((item, index) => Enumerable.Range(0, item.Measurements.Length).Except(tails[index]).ToArray()).ToArray();

        Fitted Best(int[] items)
        {
            var count = items.Sum(item => own[item].Measurements.Length);
            var (best, least) = (new Fitted(0, 0, 0), double.MaxValue);
            for (var point = 0; point < points.Length; point++)
            {
                for (var request = 0; request < shifts; request++)
                {
                    double others = 0;
                    foreach (var item in items)
                    {
                        foreach (var figure in bodies[item])
                        {
                            others += Error(item, point, request, 0, figure);
                        }
                    }

                    // A spread needs a positive median (log-normal about it).
                    for (var spread = 0; spread < (RequestGrid[request] > 0 ? spreads : 1); spread++)
                    {
                        var sum = others;
                        foreach (var item in items)
                        {
                            foreach (var figure in tails[item])
                            {
                                sum += Error(item, point, request, spread, figure);
                            }
                        }

                        var mean = count == 0 ? 0 : sum / count;
                        if (mean < least - 1e-12)
                        {
                            (best, least) = (new Fitted(point, request, spread), mean);
                        }
                    }
                }
            }

            return best;
        }

        ServingFitConstants Constants(Fitted at) => new(
            Duration.FromSeconds(points[at.Point].Layer * 1e-6),
            Duration.FromSeconds(RequestGrid[at.Request] / 1000),
            points[at.Point].Matrix,
            SpreadGrid[at.Spread] > 0 ? Duration.FromSeconds((RequestGrid[at.Request] + SpreadGrid[at.Spread]) / 1000) : null);

        var all = Enumerable.Range(0, own.Length).ToArray();
        var fittedAt = Best(all);
        var fitted = all.SelectMany(item => Errors(item, fittedAt)).ToArray();
        double? heldOut = null;
        var heldOutConstants = ImmutableDictionary.CreateBuilder<string, ServingFitConstants>(StringComparer.Ordinal);
        if (own.Length > 1)
        {
            // Each case predicted by the fit of the others.
            var heldOutAt = all.Select(item => Best([.. all.Where(other => other != item)])).ToArray();
            heldOut = all.SelectMany(item => Errors(item, heldOutAt[item])).Average();
            foreach (var item in all)
            {
                heldOutConstants[own[item].Id] = Constants(heldOutAt[item]);
            }
        }

        // The band: the spread of the fitted figures' errors, in time (a throughput's inverse).
        var residuals = all.SelectMany(item => own[item].Measurements.Select((measurement, figure) =>
        {
            var ratio = measurement.Value / (predicted[item][fittedAt.Point][figure] + Shift(measurement.Measure, fittedAt.Request, fittedAt.Spread));
            return measurement.Measure.IsThroughput() ? -Math.Log(ratio) : Math.Log(ratio);
        })).Order().ToArray();
        var fit = new FrameworkFit(procedure, [.. own.Select(item => item.Id).Order(StringComparer.Ordinal)], fitted.Length, fitted.Average(), heldOut,
            Statistics.Percentile(residuals, 0.1), Statistics.Percentile(residuals, 0.9));
        return new FrameworkCalibrationResult(Constants(fittedAt), fit, heldOutConstants.ToImmutable());
    }

    /// <summary>Whether a request overhead shifts the figure: the time to first token and the end-to-end latency.</summary>
    public static bool Shifted(ServingMeasure measure) => measure is ServingMeasure.TimeToFirstTokenMedian or ServingMeasure.TimeToFirstTokenP99 or ServingMeasure.EndToEndMedian;

    /// <summary>The YAML lines of the fitted constants and their fit, which replace the file's <c>layer_overhead</c>, <c>request_overhead</c>, <c>request_overhead_p99</c>, <c>matrix_scale</c>, <c>fit</c> and <c>held_out_constants</c>.</summary>
    public static IEnumerable<string> Block(FrameworkCalibrationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        yield return $"layer_overhead: {Number(result.Constants.LayerOverhead.Seconds * 1e6)} us   # written by clustertwin calibrate-serving; do not edit by hand";
        yield return $"request_overhead: {Number(result.Constants.RequestOverhead.Seconds * 1e3)} ms";
        if (result.Constants.RequestOverheadP99 is { } percentile)
        {
            yield return $"request_overhead_p99: {Number(percentile.Seconds * 1e3)} ms   # the front end's 99th percentile: its spread, fitted to the P99 first tokens";
        }

        yield return $"matrix_scale: {Number(result.Constants.MatrixScale)}";
        foreach (var line in FitBlock(result.Fit))
        {
            yield return line;
        }

        if (result.HeldOut.Count == 0)
        {
            yield break;
        }

        yield return "held_out_constants:   # each case's constants fitted without it: clustertwin validate predicts the case with them";
        foreach (var (id, constants) in result.HeldOut.OrderBy(entry => entry.Key, StringComparer.Ordinal))
        {
            var p99 = constants.RequestOverheadP99 is { } tail ? $", request_overhead_p99: {Number(tail.Seconds * 1e3)} ms" : string.Empty;
            yield return $"  {id}: {{layer_overhead: {Number(constants.LayerOverhead.Seconds * 1e6)} us, request_overhead: {Number(constants.RequestOverhead.Seconds * 1e3)} ms{p99}, matrix_scale: {Number(constants.MatrixScale)}}}";
        }
    }

    /// <summary>The YAML lines of a framework's <c>fit</c> block, or of the block <paramref name="key"/> in the same form.</summary>
    public static IEnumerable<string> FitBlock(FrameworkFit fit, string key = "fit")
    {
        ArgumentNullException.ThrowIfNull(fit);
        yield return key + ":";
        yield return $"  procedure: \"{fit.Procedure}\"";
        yield return $"  fitted_on: [{string.Join(", ", fit.FittedOn)}]";
        yield return $"  figures: {fit.Figures}";
        yield return $"  mean_absolute_error_percent: {Number(fit.MeanAbsoluteErrorPercent)}";
        if (fit.HeldOutMeanAbsoluteErrorPercent is { } heldOut)
        {
            yield return $"  held_out_mean_absolute_error_percent: {Number(heldOut)}   # each case predicted by the fit of the others";
        }

        if (fit.ResidualLow is { } low && fit.ResidualHigh is { } high)
        {
            yield return $"  residual_p10: {Number(low)}   # ln(measured / predicted) in time over the fitted figures: the band";
            yield return $"  residual_p90: {Number(high)}";
        }
    }

    // A point of the grids: the layer overhead and matrix factor, the request overhead, the spread.
    private readonly record struct Fitted(int Point, int Request, int Spread);

    // A fitted figure as the catalogue writes it: at most three decimals.
    private static string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static double[] Figures(ServingValidationCase item, ServingFramework framework, double overheadMicroseconds, double matrix)
    {
        var constants = new ServingFitConstants(Duration.FromSeconds(overheadMicroseconds * 1e-6), Duration.Zero, matrix);
        var result = item.Scenario.Run(deployment => deployment.Framework?.Id == framework.Id ? constants.ApplyTo(deployment) : deployment);
        return [.. item.Measurements.Select(measurement => measurement.Measure.Of(result))];
    }
}
