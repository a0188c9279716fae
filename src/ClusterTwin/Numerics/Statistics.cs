namespace ClusterTwin.Numerics;

/// <summary>Order statistics and sample moments of measured, predicted and drawn values.</summary>
public static class Statistics
{
    /// <summary>The <paramref name="fraction"/> quantile of sorted values, interpolated linearly between ranks; 0 for none.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double fraction)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        if (sorted.Count == 0)
        {
            return 0;
        }

        var position = fraction * (sorted.Count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + ((position - below) * (sorted[above] - sorted[below]));
    }

    /// <summary>The median of <paramref name="values"/> in any order (the mean of the two middle ones for an even count); 0 for none.</summary>
    public static double Median(IEnumerable<double> values) => Percentile([.. values.Order()], 0.5);

    /// <summary>The standard error of the mean of <paramref name="values"/>: their standard deviation (over n - 1) over the square root of their count; 0 for fewer than two.</summary>
    public static double StandardErrorOfMean(IReadOnlyCollection<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count < 2)
        {
            return 0;
        }

        var mean = values.Average();
        var variance = values.Sum(value => (value - mean) * (value - mean)) / (values.Count - 1);
        return Math.Sqrt(variance / values.Count);
    }
}
