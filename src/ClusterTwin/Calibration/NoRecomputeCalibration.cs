using System.Collections.Immutable;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Calibration;

/// <summary>A training framework's fitted slowdown without recompute, its fit, and for each case the factor fitted without it.</summary>
/// <param name="Slowdown">The factor on kernel time (<see cref="TrainingFramework.NoRecomputeSlowdown"/>).</param>
/// <param name="Fit">How it was fitted.</param>
/// <param name="HeldOutSlowdown">For each case, by id, the factor fitted on the others.</param>
/// <param name="ByFamily">The factor fitted on each chip family's cases alone, with their count: whether one factor holds across chips.</param>
public sealed record NoRecomputeCalibrationResult(double Slowdown, FrameworkFit Fit, ImmutableDictionary<string, double> HeldOutSlowdown, ImmutableArray<(string Family, int Cases, double Slowdown)> ByFamily);

/// <summary>
/// Fits a training framework's <see cref="TrainingFramework.NoRecomputeSlowdown"/> to its dense runs without recompute:
/// the factor that minimizes the mean absolute log error of their predictions, the chip families' levels held as
/// fitted.
/// </summary>
/// <remarks>
/// Only runs whose attention products are at most <see cref="MaximumAttentionShare"/> of the model FLOPs count: in the
/// others the attention kernel's own speed (which differs between implementations the published tables do not always
/// record) would be fitted as the framework's. A grid of 0.005 from 1 to 2, every case simulated once per point:
/// deterministic, and a tie goes to the smaller factor. Each case's held-out prediction comes from the same search
/// over the other cases.
/// </remarks>
public static class NoRecomputeCalibration
{
    /// <summary>The largest share of a run's model FLOPs its attention products may take for the run to be fitted on.</summary>
    public const double MaximumAttentionShare = 0.25;

    private const double Step = 0.005;
    private const int Points = 200;

    /// <summary>The validation cases the factor is fitted on: <paramref name="framework"/>'s dense runs without recompute, attention a small share, by id.</summary>
    public static ImmutableArray<ValidationCase> CasesOf(TrainingFramework framework, IEnumerable<ValidationCase> cases)
    {
        ArgumentNullException.ThrowIfNull(framework);
        return [.. cases.Where(item => item.Scenario.Framework.Id == framework.Id && item.Scenario.Model.MixtureOfExperts is null &&
                                       item.Scenario.Plan.Recompute == RecomputePolicy.None &&
                                       AnalyticalEngine.AttentionShare(item.Scenario.Model, item.Scenario.Job) <= MaximumAttentionShare)
            .OrderBy(item => item.Id, StringComparer.Ordinal)];
    }

    /// <summary>
    /// Fits <paramref name="framework"/> on its cases among <paramref name="cases"/>; null when it has none, or has no
    /// such constant (<see cref="TrainingFramework.NoRecomputeSlowdown"/> null).
    /// </summary>
    public static NoRecomputeCalibrationResult? Fit(TrainingFramework framework, IEnumerable<ValidationCase> cases, string procedure)
    {
        ArgumentNullException.ThrowIfNull(framework);
        var own = CasesOf(framework, cases);
        if (own.IsEmpty || framework.NoRecomputeSlowdown is null)
        {
            return null;
        }

        ValidationRun.ThrowIfInvalid(own);
        var predicted = own.Select(item => Enumerable.Range(0, Points + 1)
            .Select(point => item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = item.Scenario.Framework with { NoRecomputeSlowdown = Factor(point) } })))
            .ToArray()).ToArray();
        int Best(IEnumerable<int> indices)
        {
            var chosen = indices.ToArray();
            var (best, bestObjective) = (0, double.PositiveInfinity);
            for (var point = 0; point <= Points; point++)
            {
                var objective = chosen.Average(index => Math.Abs(Math.Log(predicted[index][point] / own[index].Measured)));
                if (objective < bestObjective - 1e-12)
                {
                    (best, bestObjective) = (point, objective);
                }
            }

            return best;
        }

        var all = Enumerable.Range(0, own.Length).ToArray();
        var fitted = Best(all);
        var heldOut = own.Length > 1 ? all.ToDictionary(index => index, index => Best(all.Where(other => other != index))) : [];

        var byFamily = all.GroupBy(index => own[index].Scenario.Efficiency.Family, StringComparer.Ordinal).OrderBy(group => group.Key, StringComparer.Ordinal)
            .Select(group => (group.Key, group.Count(), Factor(Best(group)))).ToImmutableArray();
        var ratios = all.Select(index => predicted[index][fitted] / own[index].Measured).ToArray();
        var residuals = own.Zip(ratios, (item, ratio) => item.IsThroughput ? Math.Log(ratio) : -Math.Log(ratio)).Order().ToArray();
        var fit = new FrameworkFit(procedure, [.. own.Select(item => item.Id)], own.Length, ratios.Average(ratio => Math.Abs(ratio - 1) * 100),
            heldOut.Count == 0 ? null : all.Average(index => Math.Abs((predicted[index][heldOut[index]] / own[index].Measured) - 1) * 100),
            Statistics.Percentile(residuals, 0.1), Statistics.Percentile(residuals, 0.9));
        return new NoRecomputeCalibrationResult(Factor(fitted), fit, heldOut.ToImmutableDictionary(pair => own[pair.Key].Id, pair => Factor(pair.Value), StringComparer.Ordinal), byFamily);
    }

    /// <summary>The YAML lines that replace a training framework file's <c>no_recompute_slowdown</c> and <c>no_recompute_fit</c>.</summary>
    public static IEnumerable<string> Block(NoRecomputeCalibrationResult result, string procedure)
    {
        ArgumentNullException.ThrowIfNull(result);
        yield return $"no_recompute_slowdown: {result.Slowdown:0.000}   # written by {procedure}; do not edit by hand";
        foreach (var line in FrameworkCalibration.FitBlock(result.Fit, "no_recompute_fit"))
        {
            yield return line;
        }
    }

    private static double Factor(int point) => 1 + (point * Step);
}
