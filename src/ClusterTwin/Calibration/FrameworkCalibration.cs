using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Calibration;

/// <summary>A framework's fitted layer overhead, with its errors.</summary>
/// <param name="LayerOverhead">The fitted time per layer per iteration.</param>
/// <param name="Fit">How it was fitted: the cases, the figures and the errors.</param>
public sealed record FrameworkCalibrationResult(Duration LayerOverhead, FrameworkFit Fit);

/// <summary>
/// Fits a serving framework's one free constant, the time it adds to each layer of each iteration beyond the
/// roofline, to every figure of the published runs that used it (docs/serving.md#calibration):
/// <list type="number">
/// <item>simulate each case at every overhead on a grid of 0 to 400 us in 5 us steps;</item>
/// <item>take the grid point with the least mean absolute error over all their figures (throughputs and latencies alike);</item>
/// <item>for each case, refit without it and predict it: the held-out error.</item>
/// </list>
/// Everything else (batch limits, memory share, scheduling) is the framework's published settings, not fitted.
/// </summary>
public static class FrameworkCalibration
{
    /// <summary>The overheads tried, in microseconds.</summary>
    public static ImmutableArray<double> Grid { get; } = [.. Enumerable.Range(0, 81).Select(step => step * 5.0)];

    /// <summary>Fits <paramref name="framework"/> to the serving cases that name it; null when none does.</summary>
    public static FrameworkCalibrationResult? Fit(ServingFramework framework, IEnumerable<ServingValidationCase> cases, string procedure)
    {
        ArgumentNullException.ThrowIfNull(framework);
        var own = cases.Where(item => item.Scenario.Deployment.Framework?.Id == framework.Id).ToArray();
        if (own.Length == 0)
        {
            return null;
        }

        // errors[case][grid point] = the absolute errors, in percent, of the case's figures.
        var errors = new double[own.Length][][];
        Parallel.For(0, own.Length, index => errors[index] = [.. Grid.Select(overhead => Errors(own[index], overhead))]);
        var best = Best(errors, Enumerable.Range(0, own.Length));
        var figures = errors.Sum(item => item[best].Length);
        var mean = errors.SelectMany(item => item[best]).Average();
        double? heldOut = null;
        if (own.Length > 1)
        {
            // Each case predicted by the fit of the others.
            heldOut = Enumerable.Range(0, own.Length)
                .SelectMany(index => errors[index][Best(errors, Enumerable.Range(0, own.Length).Where(other => other != index))])
                .Average();
        }

        var fit = new FrameworkFit(procedure, [.. own.Select(item => item.Id).Order(StringComparer.Ordinal)], figures, mean, heldOut);
        return new FrameworkCalibrationResult(Duration.FromSeconds(Grid[best] * 1e-6), fit);
    }

    /// <summary>The YAML lines of a fitted overhead and its fit, which replace the file's <c>layer_overhead</c> and <c>fit</c>.</summary>
    public static IEnumerable<string> Block(FrameworkCalibrationResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
        var fit = result.Fit;
        yield return $"layer_overhead: {Number(result.LayerOverhead.Seconds * 1e6)} us   # written by clustertwin calibrate-serving; do not edit by hand";
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

    private static double[] Errors(ServingValidationCase item, double overheadMicroseconds)
    {
        var scenario = item.Scenario;
        var deployment = scenario.Deployment with { LayerOverhead = Duration.FromSeconds(overheadMicroseconds * 1e-6) };
        var result = ServingSimulator.Run(deployment, scenario.Workload, scenario.Objectives);
        return [.. item.Measurements.Select(measurement => Math.Abs((measurement.Measure.Of(result) - measurement.Value) / measurement.Value * 100))];
    }

    /// <summary>The grid point with the least mean error over the figures of <paramref name="included"/> (the lowest on a tie).</summary>
    private static int Best(double[][][] errors, IEnumerable<int> included)
    {
        var cases = included.ToArray();
        var best = 0;
        var least = double.MaxValue;
        for (var point = 0; point < Grid.Length; point++)
        {
            var all = cases.SelectMany(index => errors[index][point]).ToArray();
            var mean = all.Length == 0 ? 0 : all.Average();
            if (mean < least)
            {
                (best, least) = (point, mean);
            }
        }

        return best;
    }
}
