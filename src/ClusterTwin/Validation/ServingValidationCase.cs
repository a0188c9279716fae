using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;

namespace ClusterTwin.Validation;

/// <summary>A figure a serving benchmark measured.</summary>
public enum ServingMeasure
{
    /// <summary>Output tokens per second over the run, every replica together.</summary>
    OutputTokensPerSecond,

    /// <summary>Requests completed per second.</summary>
    RequestsPerSecond,

    /// <summary>Median time to first token.</summary>
    TimeToFirstTokenMedian,

    /// <summary>99th-percentile time to first token.</summary>
    TimeToFirstTokenP99,

    /// <summary>Median time per output token after the first, per request.</summary>
    TimePerOutputTokenMedian,

    /// <summary>99th-percentile time per output token.</summary>
    TimePerOutputTokenP99,

    /// <summary>Median gap between successive deliveries of tokens to the client.</summary>
    InterTokenLatencyMedian,

    /// <summary>Median end-to-end latency.</summary>
    EndToEndMedian,
}

/// <summary>The names of <see cref="ServingMeasure"/> in case files and reports, and how each is read off a simulation.</summary>
public static class ServingMeasures
{
    /// <summary>Each measure by its key in a case's <c>measured</c> block.</summary>
    public static IReadOnlyDictionary<string, ServingMeasure> ByKey { get; } = new Dictionary<string, ServingMeasure>(StringComparer.Ordinal)
    {
        ["output_tokens_per_second"] = ServingMeasure.OutputTokensPerSecond,
        ["requests_per_second"] = ServingMeasure.RequestsPerSecond,
        ["ttft_p50"] = ServingMeasure.TimeToFirstTokenMedian,
        ["ttft_p99"] = ServingMeasure.TimeToFirstTokenP99,
        ["tpot_p50"] = ServingMeasure.TimePerOutputTokenMedian,
        ["tpot_p99"] = ServingMeasure.TimePerOutputTokenP99,
        ["itl_p50"] = ServingMeasure.InterTokenLatencyMedian,
        ["e2e_p50"] = ServingMeasure.EndToEndMedian,
    };

    /// <summary>Whether the measure is a throughput (higher when the server is faster) rather than a latency.</summary>
    public static bool IsThroughput(this ServingMeasure measure) => measure is ServingMeasure.OutputTokensPerSecond or ServingMeasure.RequestsPerSecond;

    /// <summary>The measure's key.</summary>
    public static string Key(this ServingMeasure measure) => ByKey.First(pair => pair.Value == measure).Key;

    /// <summary>The measure read off <paramref name="result"/>: tokens or requests per second, or seconds.</summary>
    public static double Of(this ServingMeasure measure, ServingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return measure switch
        {
            ServingMeasure.OutputTokensPerSecond => result.OutputTokensPerSecond,
            ServingMeasure.RequestsPerSecond => result.RequestsPerSecond,
            ServingMeasure.TimeToFirstTokenMedian => result.TimeToFirstToken.P50,
            ServingMeasure.TimeToFirstTokenP99 => result.TimeToFirstToken.P99,
            ServingMeasure.TimePerOutputTokenMedian => result.TimePerOutputToken.P50,
            ServingMeasure.TimePerOutputTokenP99 => result.TimePerOutputToken.P99,
            ServingMeasure.InterTokenLatencyMedian => result.InterTokenLatency.P50,
            ServingMeasure.EndToEndMedian => result.EndToEnd.P50,
            _ => throw new ArgumentOutOfRangeException(nameof(measure)),
        };
    }
}

/// <summary>One measured figure of a serving case: a throughput in its unit per second, a latency in seconds.</summary>
/// <param name="Measure">What was measured.</param>
/// <param name="Value">The measured value.</param>
public readonly record struct ServingMeasurement(ServingMeasure Measure, double Value);

/// <summary>A published, measured serving benchmark and the serving scenario that reproduces it.</summary>
/// <param name="Id">The id the run has in the published set.</param>
/// <param name="Source">Where the measurement comes from.</param>
/// <param name="SourceKey">A short key grouping cases of one source.</param>
/// <param name="Scenario">The serving scenario, in the form <c>serve</c> reads.</param>
/// <param name="Measurements">Every figure the source measured for the run.</param>
public sealed record ServingValidationCase(string Id, string Source, string SourceKey, ServingScenario Scenario, ImmutableArray<ServingMeasurement> Measurements)
{
    /// <summary>
    /// Whether the framework of one of its pools was fitted on the case (it is among the fit's cases); a case none was
    /// fitted on, such as a supplementary one or a user's own, is held out of every fit as it stands.
    /// </summary>
    public bool FrameworkFitted => Scenario.Pools.Any(pool => pool.Framework?.Fit?.FittedOn.Contains(Id) == true);
}
