using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Catalog;

/// <summary>A published, measured run and the scenario that reproduces it.</summary>
/// <param name="Id">The id the run has in the published set.</param>
/// <param name="Source">Where the measurement comes from (paper, table).</param>
/// <param name="Scenario">The scenario, in the same form <c>simulate</c> reads.</param>
/// <param name="MeasuredStepTime">The measured time of one training step.</param>
public sealed record ValidationCase(string Id, string Source, Scenario Scenario, Duration MeasuredStepTime);
