using System.Collections.Immutable;
using ClusterTwin.Serving;

namespace ClusterTwin.Validation;

/// <summary>One measured figure of a serving case against its prediction.</summary>
/// <param name="Case">The case.</param>
/// <param name="Measure">The figure.</param>
/// <param name="Measured">The measured value (per second, or seconds).</param>
/// <param name="Predicted">The predicted value.</param>
/// <param name="PredictedLow">Low end of the predicted band.</param>
/// <param name="PredictedHigh">High end of the predicted band.</param>
/// <param name="HeldOutPredicted">
/// The prediction with the framework's constants fitted without this case (<see cref="ServingFramework.HeldOut"/>),
/// or the prediction itself where no framework of the case was fitted on it; null where a fit saw the case and kept
/// no constants without it.
/// </param>
public sealed record ServingOutcome(ServingValidationCase Case, ServingMeasure Measure, double Measured, double Predicted, double PredictedLow, double PredictedHigh,
    double? HeldOutPredicted = null)
{
    /// <summary>Signed error of the prediction, in percent of the measurement.</summary>
    public double ErrorPercent => (Predicted - Measured) / Measured * 100;

    /// <summary>Signed error of the held-out prediction, in percent of the measurement; null without one.</summary>
    public double? HeldOutErrorPercent => HeldOutPredicted is { } heldOut ? (heldOut - Measured) / Measured * 100 : null;

    /// <summary>Whether the measurement fell inside the predicted band.</summary>
    public bool WithinBand => Measured >= PredictedLow && Measured <= PredictedHigh;

    /// <summary>The chip family of the case's hardware.</summary>
    public string Family => Case.Scenario.Deployment.Cluster.Chip.Family;
}

/// <summary>
/// Runs serving cases: each is simulated request by request, then again with every iteration at the ends of its band
/// (the P10-P90 residuals of its framework's fit, or of its chip family's training calibration where the framework
/// has none), which gives each figure's band, and once more with its framework's constants fitted without it, where
/// the fit wrote them, which gives the held-out prediction; a case no framework was fitted on is its own held-out
/// prediction.
/// </summary>
public static class ServingValidationRun
{
    /// <summary>Simulates every case; the outcomes come in case order, one per measured figure.</summary>
    public static ImmutableArray<ServingOutcome> Run(IReadOnlyList<ServingValidationCase> cases)
    {
        ArgumentNullException.ThrowIfNull(cases);
        var perCase = new ServingOutcome[cases.Count][];
        Parallel.For(0, cases.Count, index => perCase[index] = Outcomes(cases[index]));
        return [.. perCase.SelectMany(outcomes => outcomes)];
    }

    private static ServingOutcome[] Outcomes(ServingValidationCase item)
    {
        // Each pool at the ends of its band: its framework's fitted residuals where it has them, else its chip
        // family's training residuals (widened where the family borrows its calibration).
        var scenario = item.Scenario;
        static ServingDeployment Scaled(ServingDeployment deployment, bool fastEnd)
        {
            var residual = deployment.Framework?.Fit is { ResidualLow: { } low, ResidualHigh: { } high }
                ? (fastEnd ? low : high)
                : (fastEnd ? deployment.Efficiency.Fit.ResidualLow : deployment.Efficiency.Fit.ResidualHigh) * deployment.Efficiency.BandWidening;
            return deployment with { IterationScale = Math.Exp(residual) };
        }

        var central = scenario.Run();
        var fast = scenario.Run(deployment => Scaled(deployment, fastEnd: true));
        var slow = scenario.Run(deployment => Scaled(deployment, fastEnd: false));

        // Every pool whose framework was fitted on this case runs with the constants fitted without it; a case no
        // pool's framework was fitted on (a supplementary check, a user's own run) is held out as it stands.
        var heldOut = scenario.Pools.Any(pool => pool.Framework?.HeldOut.ContainsKey(item.Id) == true)
            ? scenario.Run(deployment => deployment.Framework?.HeldOut.TryGetValue(item.Id, out var constants) == true ? constants.ApplyTo(deployment) : deployment)
            : item.FrameworkFitted ? null : central;
        return [.. item.Measurements.Select(measurement =>
        {
            var predicted = measurement.Measure.Of(central);
            var (one, other) = (measurement.Measure.Of(fast), measurement.Measure.Of(slow));
            return new ServingOutcome(item, measurement.Measure, measurement.Value, predicted,
                Math.Min(predicted, Math.Min(one, other)), Math.Max(predicted, Math.Max(one, other)), heldOut is null ? null : measurement.Measure.Of(heldOut));
        })];
    }
}
