using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;

namespace ClusterTwin.Validation;

/// <summary>One case's prediction against its measurement.</summary>
/// <param name="Case">The case.</param>
/// <param name="Predicted">The predicted value of the case's metric.</param>
/// <param name="Measured">The measured value.</param>
public sealed record ValidationOutcome(ValidationCase Case, double Predicted, double Measured)
{
    /// <summary>Signed error of the prediction, in percent of the measurement.</summary>
    public double ErrorPercent => (Predicted - Measured) / Measured * 100;
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
                outcomes.Add(new ValidationOutcome(item, item.Predicted(result), item.Measured));
            }
            else
            {
                problems.AddRange(result.Problems.Select(problem => new Diagnostic(item.Id, 0, "scenario.plan", problem)));
            }
        }

        return problems.Count > 0 ? throw new InputException(problems) : outcomes.ToImmutable();
    }

    /// <summary>Mean absolute error in percent.</summary>
    public static double MeanAbsoluteErrorPercent(IReadOnlyCollection<ValidationOutcome> outcomes) =>
        outcomes.Count == 0 ? 0 : outcomes.Average(outcome => Math.Abs(outcome.ErrorPercent));

    /// <summary>Worst absolute error in percent.</summary>
    public static double MaximumAbsoluteErrorPercent(IReadOnlyCollection<ValidationOutcome> outcomes) =>
        outcomes.Count == 0 ? 0 : outcomes.Max(outcome => Math.Abs(outcome.ErrorPercent));
}
