using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Numerics;
using ClusterTwin.Validation;

namespace ClusterTwin.Calibration;

/// <summary>
/// Fits a chip family's efficiency levels to measured runs: the multipliers on its matrix and attention curves
/// that minimize the mean absolute log error of the predictions, over every case of the family except those of
/// the held-out sources.
/// </summary>
/// <remarks>
/// Coordinate descent over a fixed grid (0.20 to 1.50 in steps of 0.005), matrix level first, repeated until
/// neither level moves: deterministic, and exhaustive along each coordinate, so no starting point or random seed
/// enters the result. The log error weighs a prediction twice too fast the same as one twice too slow. Each level
/// pays <see cref="LevelPrior"/> per unit of |ln(level / centre)| for leaving its centre, the curves as written: 1 on a
/// family's own curves, the levels carried with them on carried-over ones. A level the runs do not determine (the
/// attention level of runs with short sequences) stays at the curves instead of following noise, and one they do
/// determine moves as before. Where no fitted run spends <see cref="AttentionDeterminingShare"/> of its work in
/// attention, the attention level is not fitted at all: held out of the long-sequence runs, Hopper's short ones
/// otherwise moved it from 1.03 to 0.62 to absorb one run's error. Below <see cref="JointFitBelow"/> runs one factor
/// scales both levels, but on an attention curve timed on the family's chips with no such run it scales the matrix
/// level alone (GB300: 0.58, attention at the published kernels' speed).
/// </remarks>
public static class EfficiencyCalibration
{
    private const double GridLow = 0.20;
    private const double GridHigh = 1.50;
    private const double GridStep = 0.005;

    /// <summary>The objective's price, in mean absolute log error, of each unit of |ln level|.</summary>
    public const double LevelPrior = 0.01;

    /// <summary>Below this many fitted runs, one factor scales both levels (two free levels would fit noise).</summary>
    public const int JointFitBelow = 6;

    /// <summary>
    /// The share of its model FLOPs in attention products (<see cref="AnalyticalEngine.AttentionShare"/>) that one
    /// fitted run at least must have for the attention level to be fitted; otherwise it stays at the curves as written.
    /// </summary>
    public const double AttentionDeterminingShare = 0.3;

    /// <summary>The fit and the cases it used.</summary>
    public sealed record Result(EfficiencyFit Fit, ImmutableArray<ValidationCase> Fitted, ImmutableArray<ValidationCase> HeldOut);

    /// <summary>Fits <paramref name="efficiency"/>'s levels on the cases of its family, keeping out <paramref name="heldOutSources"/>.</summary>
    public static Result Fit(ChipEfficiency efficiency, IEnumerable<ValidationCase> cases, IReadOnlyCollection<string> heldOutSources, string procedure)
    {
        // Invalid plans stop the fit with their reasons instead of feeding it a prediction of zero.
        ArgumentNullException.ThrowIfNull(efficiency);
        ArgumentNullException.ThrowIfNull(heldOutSources);
        var family = cases.Where(item => item.Scenario.Cluster.Chip.Family == efficiency.Family).ToArray();
        var sources = family.Select(item => item.SourceKey).ToHashSet(StringComparer.Ordinal);
        if (heldOutSources.FirstOrDefault(source => !sources.Contains(source)) is { } unknown)
        {
            // A mistyped key would otherwise hold nothing out and be written into the catalogue's provenance.
            throw new InputException("--hold-out", $"'{unknown}' is not a source of the {efficiency.Family} family's cases (expected one of: {string.Join(", ", sources.Order(StringComparer.Ordinal))})");
        }

        ValidationRun.ThrowIfInvalid(family);
        return Fit(efficiency, family, item => heldOutSources.Contains(item.SourceKey), heldOutSources, procedure);
    }

    /// <summary>Fits on the family's cases that <paramref name="isHeldOut"/> leaves in (cross-validation calls this once per fold).</summary>
    public static Result Fit(ChipEfficiency efficiency, IReadOnlyCollection<ValidationCase> family, Func<ValidationCase, bool> isHeldOut, IReadOnlyCollection<string> heldOutSources, string procedure)
    {
        // Cases marked not to be fitted are only ever predicted.
        var fitted = family.Where(item => item.Fitted && !isHeldOut(item)).ToImmutableArray();
        var heldOut = family.Where(isHeldOut).ToImmutableArray();
        if (fitted.Length == 0)
        {
            throw new InputException("calibrate", $"no validation case of the {efficiency.Family} family is left to fit (held out: {string.Join(", ", heldOutSources)})");
        }

        // The curves as written: for curves carried over, at the levels carried with them. The prior centres there.
        var centre = efficiency.CarriedFit ?? EfficiencyFit.None;
        double Priors(double matrixLevel, double attentionLevel) => Prior(matrixLevel / centre.MatrixScale) + Prior(attentionLevel / centre.AttentionScale);
        // The attention level is fitted only where a run spends a good part of its work in attention: short-sequence
        // runs alone would set it to whatever absorbs their other errors.
        var attentionDetermined = fitted.Any(item => AnalyticalEngine.AttentionShare(item.Scenario.Model, item.Scenario.Job) >= AttentionDeterminingShare);
        if (fitted.Length < JointFitBelow)
        {
            // Too few runs to tell the two levels apart: one factor scales both, keeping the ratio of the family the
            // curves come from. But on an attention curve timed on the family's own chips, where no run says anything
            // of attention, the factor is the matrix level's alone and attention runs at the timed kernels' speed:
            // scaling it with the multiplies' factor would carry their losses (FP8 casts, a carried-over matrix shape)
            // into a kernel that was measured.
            var attentionFollows = attentionDetermined || !TimedItsAttention(efficiency) ? 1.0 : 0.0;
            double Attention(double factor) => centre.AttentionScale * (1 + ((factor - 1) * attentionFollows));
            var (factor, _) = BestAlong(value => Objective(efficiency, fitted, value * centre.MatrixScale, Attention(value), Priors(value * centre.MatrixScale, Attention(value))), 1.0,
                Objective(efficiency, fitted, centre.MatrixScale, centre.AttentionScale, 0));
            return Finish(efficiency, fitted, heldOut, heldOutSources, procedure, Math.Round(factor * centre.MatrixScale, 4), Math.Round(Attention(factor), 4));
        }

        var (matrix, attention) = (1.0, 1.0);
        if (!attentionDetermined)
        {
            attention = centre.AttentionScale;
        }

        var best = Objective(efficiency, fitted, matrix, attention, 0);
        for (var round = 0; round < 20; round++)
        {
            var (previousMatrix, previousAttention) = (matrix, attention);
            (matrix, best) = BestAlong(value => Objective(efficiency, fitted, value, attention, Priors(value, attention)), matrix, best);
            if (attentionDetermined)
            {
                (attention, best) = BestAlong(value => Objective(efficiency, fitted, matrix, value, Priors(matrix, value)), attention, best);
            }

            if (matrix == previousMatrix && attention == previousAttention)
            {
                break;
            }
        }

        return Finish(efficiency, fitted, heldOut, heldOutSources, procedure, matrix, attention);
    }

    /// <summary>
    /// Whether the family's attention curve was timed on its chips (a kernels block, <c>calibrate --kernels</c>), not
    /// carried over with another's levels nor written by hand (A100's Calculon shapes).
    /// </summary>
    private static bool TimedItsAttention(ChipEfficiency efficiency) =>
        efficiency.MeasuredOn is not null && (efficiency.CarriedOverFrom is null || efficiency.OwnCurves.Contains("attention"));

    private static Result Finish(ChipEfficiency efficiency, ImmutableArray<ValidationCase> fitted, ImmutableArray<ValidationCase> heldOut, IReadOnlyCollection<string> heldOutSources, string procedure, double matrix, double attention)
    {
        var fit = new EfficiencyFit(matrix, attention, procedure,
            [.. fitted.Select(item => item.SourceKey).Distinct().Order(StringComparer.Ordinal)],
            [.. heldOutSources.Order(StringComparer.Ordinal)], fitted.Length, MeanAbsoluteErrorPercent(efficiency, fitted, matrix, attention));
        var residuals = StepTimeResiduals(efficiency.WithFit(fit), fitted);
        fit = fit with { ResidualLow = Statistics.Percentile(residuals, 0.10), ResidualHigh = Statistics.Percentile(residuals, 0.90) };
        return new Result(fit, fitted, heldOut);
    }

    /// <summary>ln(measured / predicted) step time of every case, sorted; a throughput metric's ratio is inverted.</summary>
    public static double[] StepTimeResiduals(ChipEfficiency efficiency, IEnumerable<ValidationCase> cases) =>
        [.. cases.Select(item =>
        {
            var ratio = item.Measured / item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Efficiency = efficiency }));
            return item.IsThroughput ? -Math.Log(ratio) : Math.Log(ratio);
        }).Order()];

    /// <summary>The cases with their scenario's efficiency replaced by <paramref name="efficiency"/>.</summary>
    public static IEnumerable<ValidationCase> Using(IEnumerable<ValidationCase> cases, ChipEfficiency efficiency) =>
        cases.Select(item => item.Scenario.Cluster.Chip.Family == efficiency.Family
            ? item with { Scenario = item.Scenario with { Efficiency = efficiency } }
            : item);

    private static (double Value, double Objective) BestAlong(Func<double, double> objective, double current, double currentObjective)
    {
        var (bestValue, bestObjective) = (current, currentObjective);
        var steps = (int)Math.Round((GridHigh - GridLow) / GridStep);
        for (var index = 0; index <= steps; index++)
        {
            var value = Math.Round(GridLow + (index * GridStep), 3);
            var candidate = objective(value);
            if (candidate < bestObjective - 1e-12)
            {
                (bestValue, bestObjective) = (value, candidate);
            }
        }

        return (bestValue, bestObjective);
    }

    // The mean absolute log error, plus the price of the levels' distance from the curves as written.
    private static double Objective(ChipEfficiency efficiency, ImmutableArray<ValidationCase> cases, double matrix, double attention, double prior) =>
        Ratios(efficiency, cases, matrix, attention).Average(ratio => Math.Abs(Math.Log(ratio))) + prior;

    private static double Prior(double level) => LevelPrior * Math.Abs(Math.Log(level));

    private static double MeanAbsoluteErrorPercent(ChipEfficiency efficiency, ImmutableArray<ValidationCase> cases, double matrix, double attention) =>
        Ratios(efficiency, cases, matrix, attention).Average(ratio => Math.Abs(ratio - 1) * 100);

    /// <summary>Predicted over measured, for every case, under the candidate levels.</summary>
    private static IEnumerable<double> Ratios(ChipEfficiency efficiency, ImmutableArray<ValidationCase> cases, double matrix, double attention)
    {
        var candidate = efficiency.WithFit(EfficiencyFit.None with { MatrixScale = matrix, AttentionScale = attention });
        foreach (var item in cases)
        {
            yield return item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Efficiency = candidate })) / item.Measured;
        }
    }
}
