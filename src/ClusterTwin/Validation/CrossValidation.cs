using System.Collections.Immutable;
using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Scenarios;
using ClusterTwin.Workloads;

namespace ClusterTwin.Validation;

/// <summary>
/// Predictions of every case by a calibration that never saw it: for a family with runs from two sources or more,
/// the levels are refitted without the case's whole source (leave one source out); for a family with one source,
/// without the case alone (leave one case out). A family with a single case has no held-out prediction. A case a
/// training framework's launch times were fitted on is predicted by that framework's fit without it; a case its
/// slowdown without recompute was fitted on, by the slowdown fitted without it and the family's levels of its fold.
/// </summary>
/// <remarks>
/// This is the error a user should expect on a new measurement, as opposed to the error on the runs the levels were
/// fitted to. Each fold runs the same deterministic fit as <c>clustertwin calibrate</c>.
/// </remarks>
public static class CrossValidation
{
    /// <summary>
    /// The outcomes of <see cref="ValidationRun.Run"/> with each case's held-out prediction attached, where it has one.
    /// </summary>
    /// <param name="catalog">The catalogue the outcomes were predicted with.</param>
    /// <param name="outcomes">The outcomes.</param>
    /// <param name="frameworkCases">
    /// The cases the training frameworks' constants (expert launch times, slowdowns without recompute) were fitted on
    /// (the repository's published and supplementary cases), asked for only when an outcome is one of them; null when
    /// they cannot be had, and then such an outcome has no held-out prediction. By default the outcomes' own.
    /// </param>
    public static ImmutableArray<ValidationOutcome> WithHeldOut(HardwareCatalog catalog, ImmutableArray<ValidationOutcome> outcomes, Func<IReadOnlyCollection<ValidationCase>?>? frameworkCases = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var predictions = new Dictionary<string, double>(StringComparer.Ordinal);
        var foldLevels = new Dictionary<string, ChipEfficiency>(StringComparer.Ordinal);
        foreach (var family in outcomes.GroupBy(outcome => outcome.Family))
        {
            if (!catalog.Efficiencies.TryGetValue(family.Key, out var efficiency) || !efficiency.HasOwnFit)
            {
                continue;
            }

            // A case the family levels never fit is held out of them by construction: the catalogue's own prediction of
            // it (unless a training framework's constants were fitted to it, below).
            foreach (var outcome in family.Where(outcome => !outcome.Case.Fitted))
            {
                predictions[outcome.Case.Id] = outcome.Predicted;
            }

            var members = family.Select(outcome => outcome.Case).Where(item => item.Fitted).ToArray();
            var bySource = members.Select(item => item.SourceKey).Distinct().Count() >= 2;
            foreach (var fold in members.GroupBy(item => bySource ? item.SourceKey : item.Id))
            {
                if (fold.Count() == members.Length)
                {
                    continue;
                }

                var heldOut = fold.Select(item => item.Id).ToHashSet(StringComparer.Ordinal);
                var result = EfficiencyCalibration.Fit(efficiency, members, item => heldOut.Contains(item.Id), [fold.Key], "cross-validation");
                var refitted = efficiency.WithFit(result.Fit);
                foreach (var item in fold)
                {
                    predictions[item.Id] = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Efficiency = refitted }));
                    foldLevels[item.Id] = refitted;
                }
            }
        }

        var cases = outcomes.Select(outcome => outcome.Case).ToArray();
        var validated = cases.Select(item => item.Id).ToHashSet(StringComparer.Ordinal);
        var fitCases = new Lazy<IReadOnlyCollection<ValidationCase>?>(() => frameworkCases is null ? cases : frameworkCases());

        // A framework constant saw every case it was fitted on: only a refit on the others holds one out, the others
        // being all the cases the constant was fitted on, not only those validated here. The refit gives each held-out
        // case its scenario, built on the case as validated (the fit's copy may be another scenario under the same id).
        void HoldOut(FrameworkFit fit, Func<IReadOnlyCollection<ValidationCase>, Func<ValidationCase, Scenario?>?> refit)
        {
            if (!fit.FittedOn.Any(validated.Contains))
            {
                return;
            }

            foreach (var id in fit.FittedOn)
            {
                predictions.Remove(id);
            }

            if (fitCases.Value is not { } fitOn || refit(fitOn) is not { } heldOut)
            {
                return;
            }

            foreach (var item in cases)
            {
                if (heldOut(item) is { } scenario)
                {
                    predictions[item.Id] = item.Predicted(AnalyticalEngine.SimulateStep(scenario));
                }
            }
        }

        foreach (var framework in catalog.TrainingFrameworks.Values)
        {
            if (framework.Fit is { } launchFit)
            {
                HoldOut(launchFit, fitOn => TrainingFrameworkCalibration.Fit(framework, fitOn, "cross-validation") is { } result
                    ? item => result.HeldOutTimes.TryGetValue(item.Id, out var times) ? item.Scenario with { Framework = times.Apply(item.Scenario.Framework) } : null
                    : null);
            }
        }

        foreach (var framework in catalog.TrainingFrameworks.Values)
        {
            if (framework.NoRecomputeFit is { } slowdownFit)
            {
                HoldOut(slowdownFit, fitOn => NoRecomputeCalibration.Fit(framework, fitOn, "cross-validation") is { } result
                    ? item => result.HeldOutSlowdown.TryGetValue(item.Id, out var slowdown)
                        ? item.Scenario with { Efficiency = foldLevels.GetValueOrDefault(item.Id, item.Scenario.Efficiency), Framework = framework with { NoRecomputeSlowdown = slowdown } }
                        : null
                    : null);
            }
        }

        return [.. outcomes.Select(outcome => predictions.TryGetValue(outcome.Case.Id, out var prediction) ? outcome with { HeldOutPredicted = prediction } : outcome)];
    }
}
