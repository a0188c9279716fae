namespace ClusterTwin.Numerics;

/// <summary>Order statistics of measured and predicted values.</summary>
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
}
