using System.Collections.Immutable;

namespace ClusterTwin.Hardware;

/// <summary>
/// Achieved fraction of a peak rate as a function of the size of one operation (FLOPs of a kernel, bytes of a
/// transfer), linear in the logarithm of the size between points and flat beyond the ends.
/// </summary>
/// <remarks>
/// Implementation note: efficiency curves are data (Calculon keeps them the same way) because they are what
/// calibration fits. Interpolating in log size keeps the curve monotone between monotone points, so a larger
/// kernel is never predicted to run at a lower efficiency than a smaller one.
/// </remarks>
public sealed record EfficiencyCurve
{
    private readonly ImmutableArray<double> logSizes;
    private readonly ImmutableArray<double> efficiencies;

    /// <summary>Creates a curve from (size in base units, efficiency) points, in any order.</summary>
    public EfficiencyCurve(IEnumerable<(double Size, double Efficiency)> points)
    {
        var sorted = points.OrderBy(point => point.Size).ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("an efficiency curve needs at least one point", nameof(points));
        }

        Points = [.. sorted];
        logSizes = [.. sorted.Select(point => Math.Log(Math.Max(point.Size, 1e-30)))];
        efficiencies = [.. sorted.Select(point => point.Efficiency)];
    }

    /// <summary>The points, sorted by size.</summary>
    public ImmutableArray<(double Size, double Efficiency)> Points { get; }

    /// <summary>A curve with one efficiency at every size.</summary>
    public static EfficiencyCurve Constant(double efficiency) => new([(1, efficiency)]);

    /// <summary>The curve with every efficiency multiplied by <paramref name="factor"/>, capped at 1.</summary>
    public EfficiencyCurve Scaled(double factor) =>
        factor == 1 ? this : new(Points.Select(point => (point.Size, Math.Min(1, point.Efficiency * factor))));

    /// <summary>The efficiency at <paramref name="size"/> (base units).</summary>
    public double At(double size)
    {
        if (size <= Points[0].Size)
        {
            return efficiencies[0];
        }

        if (size >= Points[^1].Size)
        {
            return efficiencies[^1];
        }

        var logSize = Math.Log(size);
        var upper = 1;
        while (logSizes[upper] < logSize)
        {
            upper++;
        }

        var fraction = (logSize - logSizes[upper - 1]) / (logSizes[upper] - logSizes[upper - 1]);
        return efficiencies[upper - 1] + (fraction * (efficiencies[upper] - efficiencies[upper - 1]));
    }

    /// <inheritdoc />
    public bool Equals(EfficiencyCurve? other) => other is not null && Points.SequenceEqual(other.Points);

    /// <inheritdoc />
    public override int GetHashCode() => Points.Length;
}
