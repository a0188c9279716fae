using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Calibration;

/// <summary>A training framework's fitted slowdown without full recompute, its fit, and for each case the factor it is held out by.</summary>
/// <param name="Slowdown">The factor on kernel time (<see cref="TrainingFramework.NoRecomputeSlowdown"/>).</param>
/// <param name="Fit">How it was fitted; its held-out error is each case's at the factor fitted on the other chip families.</param>
/// <param name="HeldOutSlowdown">For each case, by id, the factor fitted without its chip family (without the case, where there is one family).</param>
/// <param name="ByFamily">Each chip family's cases: their count, the factor they give alone, and their mean absolute error without the factor and at the other families' factor.</param>
public sealed record NoRecomputeCalibrationResult(double Slowdown, FrameworkFit Fit, ImmutableDictionary<string, double> HeldOutSlowdown, ImmutableArray<FamilySlowdown> ByFamily);

/// <summary>One chip family's runs in a slowdown fit.</summary>
/// <param name="Family">The chip family.</param>
/// <param name="Cases">Its runs.</param>
/// <param name="Slowdown">The factor fitted on them alone.</param>
/// <param name="UnslowedErrorPercent">Their mean absolute error at no slowdown.</param>
/// <param name="HeldOutErrorPercent">Their mean absolute error at the factor fitted on the other families; null with one family.</param>
public sealed record FamilySlowdown(string Family, int Cases, double Slowdown, double UnslowedErrorPercent, double? HeldOutErrorPercent);

/// <summary>
/// Fits a training framework's <see cref="TrainingFramework.NoRecomputeSlowdown"/> to its dense runs that keep their
/// activations (no recompute, or selective): the factor that minimizes the mean absolute log error of their
/// predictions, the chip families' levels held as fitted.
/// </summary>
/// <remarks>
/// Only runs whose attention products are at most <see cref="MaximumAttentionShare"/> of the model FLOPs count: in the
/// others the attention kernel's own speed (which differs between implementations the published tables do not always
/// record) would be fitted as the framework's. A grid of 0.005 from 1 to 2, every case simulated once per point:
/// deterministic, and a tie goes to the smaller factor. A case is held out by the factor its chip family's runs did
/// not give, the other families' (leaving one case out of dozens would not move the factor off its grid point).
/// </remarks>
public static class NoRecomputeCalibration
{
    /// <summary>The largest share of a run's model FLOPs its attention products may take for the run to be fitted on.</summary>
    public const double MaximumAttentionShare = 0.25;

    private const double Step = 0.005;
    private const int Points = 200;

    /// <summary>
    /// The validation cases the factor is fitted on: <paramref name="framework"/>'s dense runs without full recompute,
    /// attention a small share of their work, by id, but those kept as a check of it (<see cref="ValidationCase.NotFrameworkFitted"/>).
    /// </summary>
    public static ImmutableArray<ValidationCase> CasesOf(TrainingFramework framework, IEnumerable<ValidationCase> cases)
    {
        ArgumentNullException.ThrowIfNull(framework);
        return [.. TrainingFrameworkCalibration.Fittable(framework, cases)
            .Where(item => item.Scenario.Model.MixtureOfExperts is null && item.Scenario.Plan.Recompute != RecomputePolicy.Full &&
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
        double Error(int index, int point) => Math.Abs((predicted[index][point] / own[index].Measured) - 1) * 100;
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
        var families = all.GroupBy(index => own[index].Scenario.Efficiency.Family, StringComparer.Ordinal).OrderBy(group => group.Key, StringComparer.Ordinal).ToArray();
        var heldOut = new Dictionary<int, int>();
        var byFamily = ImmutableArray.CreateBuilder<FamilySlowdown>();
        foreach (var family in families)
        {
            int? others = families.Length > 1 ? Best(all.Except(family)) : null;
            foreach (var index in family)
            {
                if (others is { } point)
                {
                    heldOut[index] = point;
                }
                else if (own.Length > 1)
                {
                    heldOut[index] = Best(all.Where(other => other != index));
                }
            }

            byFamily.Add(new FamilySlowdown(family.Key, family.Count(), Factor(Best(family)), family.Average(index => Error(index, 0)),
                others is { } held ? family.Average(index => Error(index, held)) : null));
        }

        var fit = TrainingFrameworkCalibration.FitOf(procedure, own, [.. all.Select(index => predicted[index][fitted])],
            heldOut.Count == 0 ? null : [.. all.Select(index => predicted[index][heldOut[index]])]);
        return new NoRecomputeCalibrationResult(Factor(fitted), fit, heldOut.ToImmutableDictionary(pair => own[pair.Key].Id, pair => Factor(pair.Value), StringComparer.Ordinal), byFamily.ToImmutable());
    }

    /// <summary>The YAML lines that replace a training framework file's <c>no_recompute_slowdown</c> and <c>no_recompute_fit</c>.</summary>
    public static IEnumerable<string> Block(NoRecomputeCalibrationResult result, string procedure)
    {
        ArgumentNullException.ThrowIfNull(result);
        yield return $"no_recompute_slowdown: {result.Slowdown.ToString("0.000", CultureInfo.InvariantCulture)}   # written by {procedure}; do not edit by hand";
        foreach (var line in FrameworkCalibration.FitBlock(result.Fit, "no_recompute_fit"))
        {
            yield return line;
        }
    }

    private static double Factor(int point) => 1 + (point * Step);
}
