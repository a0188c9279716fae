using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Numerics;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Calibration;

/// <summary>A training framework's fitted launch times, their fit, and each case's prediction by the fit of the others.</summary>
/// <param name="ExpertLaunch">The least time of one expert multiply.</param>
/// <param name="ExpertQuantizeLaunch">The time added to it under a scaled format.</param>
/// <param name="Fit">How they were fitted.</param>
/// <param name="HeldOutPredicted">Each case's prediction, in its own metric, by the fit without it.</param>
/// <param name="HeldOutTimes">The launch times fitted without each case, by its id.</param>
/// <param name="Spread">How far the runs the launch times bind stray from them; null where none does.</param>
public sealed record TrainingFrameworkCalibrationResult(Duration ExpertLaunch, Duration ExpertQuantizeLaunch, FrameworkFit Fit, ImmutableDictionary<string, double> HeldOutPredicted,
    ImmutableDictionary<string, ExpertLaunchTimes> HeldOutTimes, ExpertLaunchSpread? Spread);

/// <summary>A training framework's two expert launch times.</summary>
/// <param name="Launch">The least time of one expert multiply.</param>
/// <param name="QuantizeLaunch">The time added to it under a scaled format.</param>
public readonly record struct ExpertLaunchTimes(Duration Launch, Duration QuantizeLaunch)
{
    /// <summary><paramref name="framework"/> with these launch times.</summary>
    public TrainingFramework Apply(TrainingFramework framework)
    {
        ArgumentNullException.ThrowIfNull(framework);
        return framework with { ExpertLaunch = Launch, ExpertQuantizeLaunch = QuantizeLaunch };
    }
}

/// <summary>
/// Fits a training framework's expert launch times to the published mixture-of-experts runs that used it: the pair
/// (launch, quantize launch) that minimizes the mean absolute log error of their predictions.
/// </summary>
/// <remarks>
/// An exhaustive search of a 5 us grid (launch 0-200 us, quantize 0-100 us; every case simulated once per least time):
/// deterministic, with no starting point, and where the cases cannot tell the two apart (no run in a scaled format, or
/// none without one) the least quantize time wins the tie, so the time goes to the plain launch every format pays.
/// Dense runs are left out: nothing in them launches per expert. Each case's held-out prediction comes from the same
/// search over the other cases. The spread (<see cref="ExpertLaunchSpread"/>) is of each bound case's own best least
/// time on the same grid, over the fitted one: a case the grid cannot bring to its measurement takes the grid's end.
/// </remarks>
public static class TrainingFrameworkCalibration
{
    private const int StepMicroseconds = 5;
    private const int LaunchHighMicroseconds = 200;
    private const int QuantizeHighMicroseconds = 100;

    /// <summary>
    /// The validation cases <paramref name="framework"/>'s constants are fitted on: its mixture-of-experts runs, by id,
    /// but those kept as a check of them (<see cref="ValidationCase.NotFrameworkFitted"/>).
    /// </summary>
    public static ImmutableArray<ValidationCase> CasesOf(TrainingFramework framework, IEnumerable<ValidationCase> cases)
    {
        ArgumentNullException.ThrowIfNull(framework);
        return [.. Fittable(framework, cases).Where(item => item.Scenario.Model.MixtureOfExperts is not null).OrderBy(item => item.Id, StringComparer.Ordinal)];
    }

    /// <summary>The cases that run on <paramref name="framework"/> and that its constants may be fitted on: all but those kept as a check.</summary>
    internal static IEnumerable<ValidationCase> Fittable(TrainingFramework framework, IEnumerable<ValidationCase> cases) =>
        cases.Where(item => item.FrameworkFitted && item.Scenario.Framework.Id == framework.Id);

    /// <summary>Fits <paramref name="framework"/> on its cases among <paramref name="cases"/>; null when it has none.</summary>
    public static TrainingFrameworkCalibrationResult? Fit(TrainingFramework framework, IEnumerable<ValidationCase> cases, string procedure)
    {
        var own = CasesOf(framework, cases);
        if (own.IsEmpty)
        {
            return null;
        }

        ValidationRun.ThrowIfInvalid(own);
        var table = new PredictionTable(own);
        var all = Enumerable.Range(0, own.Length).ToArray();
        var (launch, quantize) = table.Best(all);
        var heldOut = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        var heldOutTimes = ImmutableDictionary.CreateBuilder<string, ExpertLaunchTimes>(StringComparer.Ordinal);
        if (own.Length > 1)
        {
            foreach (var index in all)
            {
                var (otherLaunch, otherQuantize) = table.Best([.. all.Where(other => other != index)]);
                heldOut[own[index].Id] = table.Predicted(index, otherLaunch, otherQuantize);
                heldOutTimes[own[index].Id] = new ExpertLaunchTimes(Microseconds(otherLaunch * StepMicroseconds), Microseconds(otherQuantize * StepMicroseconds));
            }
        }

        var fit = FitOf(procedure, own, [.. all.Select(index => table.Predicted(index, launch, quantize))],
            heldOut.Count == 0 ? null : [.. own.Select(item => heldOut[item.Id])]);
        return new TrainingFrameworkCalibrationResult(Microseconds(launch * StepMicroseconds), Microseconds(quantize * StepMicroseconds), fit, heldOut.ToImmutable(), heldOutTimes.ToImmutable(),
            SpreadOf(table, all, launch, quantize));
    }

    // Each case the fitted times bind (so its least time there is above zero): its own best least time over the fitted
    // one; the percentiles of those.
    private static ExpertLaunchSpread? SpreadOf(PredictionTable table, int[] cases, int launch, int quantize)
    {
        var scales = cases.Where(index => table.Binds(index, launch, quantize))
            .Select(index => table.OwnBest(index) / (double)table.LeastSteps(index, launch, quantize)).Order().ToArray();
        return scales.Length == 0 ? null
            : new ExpertLaunchSpread(Math.Round(Math.Min(1, Statistics.Percentile(scales, 0.1)), 3), Math.Round(Math.Clamp(Statistics.Percentile(scales, 0.9), 1, ExpertLaunchSpread.HighLimit), 3), scales.Length);
    }

    /// <summary>
    /// The record of a training framework constant's fit over <paramref name="cases"/>: each case's prediction at the
    /// fitted value and, where there is one, by the fit that held it out, in the case's own metric; the residual
    /// percentiles are of ln(measured / predicted) in time.
    /// </summary>
    internal static FrameworkFit FitOf(string procedure, ImmutableArray<ValidationCase> cases, double[] predicted, double[]? heldOutPredicted)
    {
        var ratios = cases.Select((item, index) => predicted[index] / item.Measured).ToArray();
        var residuals = cases.Zip(ratios, (item, ratio) => item.IsThroughput ? Math.Log(ratio) : -Math.Log(ratio)).Order().ToArray();
        return new FrameworkFit(procedure, [.. cases.Select(item => item.Id)], cases.Length, ratios.Average(ratio => Math.Abs(ratio - 1) * 100),
            heldOutPredicted is null ? null : cases.Select((item, index) => Math.Abs((heldOutPredicted[index] / item.Measured) - 1) * 100).Average(),
            Statistics.Percentile(residuals, 0.1), Statistics.Percentile(residuals, 0.9));
    }

    /// <summary>The YAML lines that replace a training framework file's <c>expert_launch</c>, <c>expert_quantize_launch</c>, <c>expert_launch_spread</c> and <c>fit</c>.</summary>
    public static IEnumerable<string> Block(TrainingFrameworkCalibrationResult result, string procedure)
    {
        ArgumentNullException.ThrowIfNull(result);
        yield return $"expert_launch: {result.ExpertLaunch.Seconds * 1e6:0} us   # written by {procedure}; do not edit by hand";
        yield return $"expert_quantize_launch: {result.ExpertQuantizeLaunch.Seconds * 1e6:0} us   # added under FP8, MXFP8 and NVFP4";
        if (result.Spread is { } spread)
        {
            yield return "expert_launch_spread:   # P10 and P90, over the fitted runs the launch times bind, of each run's own best least time over the fitted one; a prediction's band is stretched to both";
            yield return $"  low: {spread.Low.ToString("0.###", CultureInfo.InvariantCulture)}";
            yield return $"  high: {spread.High.ToString("0.###", CultureInfo.InvariantCulture)}";
            yield return $"  runs: {spread.Runs}";
        }

        foreach (var line in FrameworkCalibration.FitBlock(result.Fit))
        {
            yield return line;
        }
    }

    /// <summary>
    /// Every case's prediction at every grid point, simulated once. A case depends on the two times only through the
    /// least time of its expert multiplies: the launch in BF16, the launch plus the quantize time in a scaled format.
    /// </summary>
    private sealed class PredictionTable
    {
        private readonly ImmutableArray<ValidationCase> cases;
        private readonly bool[] scaled;
        private readonly double[][] predicted;

        public PredictionTable(ImmutableArray<ValidationCase> cases)
        {
            this.cases = cases;
            scaled = [.. cases.Select(item => item.Scenario.Job.CastsMultiplyInputs)];
            predicted = [.. cases.Select((item, index) =>
            {
                var steps = (LaunchHighMicroseconds + (scaled[index] ? QuantizeHighMicroseconds : 0)) / StepMicroseconds;
                var values = new double[steps + 1];
                for (var least = 0; least <= steps; least++)
                {
                    // The whole least time as the launch: ExpertLaunchFor adds nothing in BF16 and the quantize time is zero.
                    var framework = item.Scenario.Framework with { ExpertLaunch = Microseconds(least * StepMicroseconds), ExpertQuantizeLaunch = Duration.Zero };
                    values[least] = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = framework }));
                }

                return values;
            })];
        }

        /// <summary>The least time of case <paramref name="index"/>'s expert multiplies, in grid steps, that brings its prediction nearest its measurement (the lowest of equals).</summary>
        public int OwnBest(int index)
        {
            var values = predicted[index];
            var (best, bestError) = (0, double.PositiveInfinity);
            for (var least = 0; least < values.Length; least++)
            {
                var error = Math.Abs(Math.Log(values[least] / cases[index].Measured));
                if (error < bestError - 1e-12)
                {
                    (best, bestError) = (least, error);
                }
            }

            return best;
        }

        /// <summary>Whether case <paramref name="index"/>'s prediction at (<paramref name="launch"/>, <paramref name="quantize"/>) depends on the least time at all: its host launches bind there.</summary>
        public bool Binds(int index, int launch, int quantize) => Math.Abs((Predicted(index, launch, quantize) / predicted[index][0]) - 1) > 1e-12;

        /// <summary>Case <paramref name="index"/>'s least time at grid point (<paramref name="launch"/>, <paramref name="quantize"/>), in grid steps.</summary>
        public int LeastSteps(int index, int launch, int quantize) => launch + (scaled[index] ? quantize : 0);

        /// <summary>Case <paramref name="index"/>'s prediction at grid point (<paramref name="launch"/>, <paramref name="quantize"/>).</summary>
        public double Predicted(int index, int launch, int quantize) => predicted[index][LeastSteps(index, launch, quantize)];

        /// <summary>
        /// The grid point with the least mean absolute log error over <paramref name="indices"/>: searched quantize
        /// first, then launch, each from low to high, moved only by a strict improvement.
        /// </summary>
        public (int Launch, int Quantize) Best(int[] indices)
        {
            var (best, bestObjective) = ((0, 0), double.PositiveInfinity);
            for (var quantize = 0; quantize <= QuantizeHighMicroseconds / StepMicroseconds; quantize++)
            {
                for (var launch = 0; launch <= LaunchHighMicroseconds / StepMicroseconds; launch++)
                {
                    var objective = indices.Average(index => Math.Abs(Math.Log(Predicted(index, launch, quantize) / cases[index].Measured)));
                    if (objective < bestObjective - 1e-12)
                    {
                        (best, bestObjective) = ((launch, quantize), objective);
                    }
                }
            }

            return best;
        }
    }

    private static Duration Microseconds(int value) => Duration.FromSeconds(value * 1e-6);
}
