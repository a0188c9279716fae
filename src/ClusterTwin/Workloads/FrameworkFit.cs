using System.Collections.Immutable;

namespace ClusterTwin.Workloads;

/// <summary>The fit of a framework's constants (a serving framework's overheads, a training framework's launch time).</summary>
/// <param name="Procedure">The command that wrote it.</param>
/// <param name="FittedOn">The cases it was fitted on.</param>
/// <param name="Figures">Measured figures of those cases.</param>
/// <param name="MeanAbsoluteErrorPercent">Mean absolute error of those figures at the fitted value.</param>
/// <param name="HeldOutMeanAbsoluteErrorPercent">Mean absolute error of each case's figures predicted by a fit without that case; null with one case.</param>
/// <param name="ResidualLow">
/// 10th percentile, over the fitted figures, of ln(measured / predicted) in time: a latency's own ratio, a throughput's
/// inverse. A prediction's band runs every iteration at the exponents of the two percentiles.
/// </param>
/// <param name="ResidualHigh">90th percentile of the same.</param>
public sealed record FrameworkFit(string Procedure, ImmutableArray<string> FittedOn, int Figures, double MeanAbsoluteErrorPercent, double? HeldOutMeanAbsoluteErrorPercent,
    double? ResidualLow = null, double? ResidualHigh = null);
