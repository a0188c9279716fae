using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Validation;

/// <summary>The figure a source measured, compared under the source's own definition.</summary>
public enum MeasuredMetric
{
    /// <summary>Seconds per optimizer step.</summary>
    StepTime,

    /// <summary>Tokens trained per second per chip.</summary>
    TokensPerSecondPerChip,

    /// <summary>
    /// Model TFLOPS per chip in the convention of Megatron-LM, NeMo and MaxText before July 2025: forward and
    /// backward as three forward passes, attention over the full sequence, no recompute.
    /// </summary>
    ModelTflopsPerChip,

    /// <summary>Model TFLOPS per chip with attention counted over its causal half only (NeMo's formulas since 2025).</summary>
    ModelTflopsPerChipCausal,
}

/// <summary>A published, measured run and the scenario that reproduces it.</summary>
/// <param name="Id">The id the run has in the published set.</param>
/// <param name="Source">Where the measurement comes from (paper, table).</param>
/// <param name="SourceKey">A short key grouping cases of one source, for per-source summaries and held-out calibration.</param>
/// <param name="Scenario">The scenario, in the same form <c>simulate</c> reads.</param>
/// <param name="Metric">Which figure was measured.</param>
/// <param name="Measured">The measured value, in the metric's unit (seconds, or tokens per second per chip).</param>
public sealed record ValidationCase(string Id, string Source, string SourceKey, Scenario Scenario, MeasuredMetric Metric, double Measured)
{
    /// <summary>
    /// Why the case is validated but kept out of calibration, or null when it is fitted: a case whose workload the
    /// model does not yet cover well would bend every other prediction of its family toward its own error.
    /// </summary>
    public string? NotFitted { get; init; }

    /// <summary>Whether calibration may fit the case.</summary>
    public bool Fitted => NotFitted is null;

    /// <summary>The case file and the line of its scenario's plan, where the case was read from one: what an invalid plan is reported against.</summary>
    public (string File, int Line)? PlanLocation { get; init; }

    /// <summary>
    /// Why the case is kept out of its training framework's fitted constants (the expert launch times, the slowdown
    /// without recompute) as well, or null when those may fit it: a check of the constants on runs they never saw.
    /// </summary>
    public string? NotFrameworkFitted { get; init; }

    /// <summary>Whether a training framework's calibration may fit the case.</summary>
    public bool FrameworkFitted => NotFrameworkFitted is null;

    /// <summary>The same metric read off a prediction.</summary>
    public double Predicted(TrainingStepResult result) => Metric switch
    {
        MeasuredMetric.StepTime => result.StepTime.Seconds,
        MeasuredMetric.TokensPerSecondPerChip => result.TokensPerSecond / result.Chips,
        MeasuredMetric.ModelTflopsPerChip => result.ModelFlopsPerStep.Operations / result.StepTime.Seconds / result.Chips / 1e12,
        MeasuredMetric.ModelTflopsPerChipCausal => AnalyticalEngine.ModelFlops(Scenario.Model, Scenario.Job, causalAttention: true).Operations / result.StepTime.Seconds / result.Chips / 1e12,
        _ => throw new InvalidOperationException($"unknown metric {Metric}"),
    };

    /// <summary>Whether the metric grows as the step gets faster (a throughput) rather than slower (a time).</summary>
    public bool IsThroughput => Metric != MeasuredMetric.StepTime;

    /// <summary>The metric's name in reports and JSON.</summary>
    public string MetricName => Metric switch
    {
        MeasuredMetric.StepTime => "stepTimeSeconds",
        MeasuredMetric.TokensPerSecondPerChip => "tokensPerSecondPerChip",
        MeasuredMetric.ModelTflopsPerChip => "modelTflopsPerChip",
        _ => "modelTflopsPerChipCausal",
    };
}
