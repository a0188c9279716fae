using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;

namespace ClusterTwin.Validation;

/// <summary>One case's prediction against its measurement.</summary>
/// <param name="Case">The case.</param>
/// <param name="Predicted">The predicted value of the case's metric.</param>
/// <param name="PredictedLow">Low end of the predicted band, in the metric's units.</param>
/// <param name="PredictedHigh">High end of the predicted band.</param>
/// <param name="Fits">Whether the model predicts that the run fits in memory (a run at the edge of memory often slows down).</param>
public sealed record ValidationOutcome(ValidationCase Case, double Predicted, double PredictedLow, double PredictedHigh, bool Fits)
{
    /// <summary>The measured value.</summary>
    public double Measured => Case.Measured;

    /// <summary>The prediction by a calibration that never saw this case (see <see cref="CrossValidation"/>), where there is one.</summary>
    public double? HeldOutPredicted { get; init; }

    /// <summary>Signed error of the held-out prediction, in percent of the measurement.</summary>
    public double? HeldOutErrorPercent => HeldOutPredicted is { } predicted ? (predicted - Measured) / Measured * 100 : null;

    /// <summary>Signed error of the prediction, in percent of the measurement.</summary>
    public double ErrorPercent => (Predicted - Measured) / Measured * 100;

    /// <summary>Whether the measurement fell inside the predicted band.</summary>
    public bool WithinBand => Measured >= PredictedLow && Measured <= PredictedHigh;

    /// <summary>The chip family of the case's hardware.</summary>
    public string Family => Case.Scenario.Cluster.Chip.Family;
}

/// <summary>Runs validation cases and summarizes the error.</summary>
public static class ValidationRun
{
    /// <summary>Simulates every case; a case whose plan does not divide is an input error, reported with its reasons.</summary>
    public static ImmutableArray<ValidationOutcome> Run(IEnumerable<ValidationCase> cases)
    {
        var outcomes = ImmutableArray.CreateBuilder<ValidationOutcome>();
        var problems = new List<Diagnostic>();
        foreach (var item in cases)
        {
            var result = AnalyticalEngine.Simulate(item.Scenario);
            if (result.Valid)
            {
                outcomes.Add(Outcome(item, result));
            }
            else
            {
                problems.AddRange(Diagnostics(item, result));
            }
        }

        return problems.Count > 0 ? throw new InputException(problems) : outcomes.ToImmutable();
    }

    /// <summary>The outcome of <paramref name="item"/> given its scenario's simulated step, <paramref name="result"/> (valid, with its band).</summary>
    public static ValidationOutcome Outcome(ValidationCase item, TrainingStepResult result)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(result);
        var (low, high) = Band(item, result);
        return new ValidationOutcome(item, item.Predicted(result), low, high, result.Fits);
    }

    /// <summary>Throws, as <see cref="Run"/> would, if a case's plan does not divide; the cheap check before a fit.</summary>
    public static void ThrowIfInvalid(IEnumerable<ValidationCase> cases)
    {
        var problems = cases.SelectMany(item => Diagnostics(item, AnalyticalEngine.SimulateStep(item.Scenario))).ToList();
        if (problems.Count > 0)
        {
            throw new InputException(problems);
        }
    }

    private static IEnumerable<Diagnostic> Diagnostics(ValidationCase item, TrainingStepResult result) =>
        result.Valid ? [] : result.Problems.Select(problem => new Diagnostic(item.PlanLocation?.File ?? item.Id, item.PlanLocation?.Line ?? 0, "scenario.plan", problem));

    /// <summary>The step-time band in the case's metric: a throughput's band is the inverse of the time's.</summary>
    private static (double Low, double High) Band(ValidationCase item, TrainingStepResult result) => item.IsThroughput
        ? (item.Predicted(result) * result.StepTime.Seconds / result.StepTimeHigh.Seconds, item.Predicted(result) * result.StepTime.Seconds / result.StepTimeLow.Seconds)
        : (result.StepTimeLow.Seconds, result.StepTimeHigh.Seconds);
}
