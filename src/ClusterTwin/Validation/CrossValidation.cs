using System.Collections.Immutable;
using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;

namespace ClusterTwin.Validation;

/// <summary>
/// Predictions of every case by a calibration that never saw it: for a family with runs from two sources or more,
/// the levels are refitted without the case's whole source (leave one source out); for a family with one source,
/// without the case alone (leave one case out). A family with a single case has no held-out prediction.
/// </summary>
/// <remarks>
/// This is the error a user should expect on a new measurement, as opposed to the error on the runs the levels were
/// fitted to. Each fold runs the same deterministic fit as <c>clustertwin calibrate</c>.
/// </remarks>
public static class CrossValidation
{
    /// <summary>The held-out prediction of each case's metric, by case id; cases without one are absent.</summary>
    public static ImmutableDictionary<string, double> HeldOutPredictions(HardwareCatalog catalog, IReadOnlyCollection<ValidationCase> cases)
    {
        var predictions = ImmutableDictionary.CreateBuilder<string, double>(StringComparer.Ordinal);
        foreach (var family in cases.GroupBy(item => item.Scenario.Cluster.Chip.Family))
        {
            if (!catalog.Efficiencies.TryGetValue(family.Key, out var efficiency) || !efficiency.HasOwnFit)
            {
                continue;
            }

            // A case calibration never fits is held out by construction: the catalogue's own prediction of it.
            foreach (var item in family.Where(item => !item.Fitted))
            {
                predictions[item.Id] = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Efficiency = efficiency }));
            }

            var members = family.Where(item => item.Fitted).ToArray();
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
                }
            }
        }

        return predictions.ToImmutable();
    }
}
