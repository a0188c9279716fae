using ClusterTwin.Units;

namespace ClusterTwin.Numerics;

/// <summary>Order statistics and sample moments of measured, predicted and drawn values.</summary>
public static class Statistics
{
    /// <summary>The <paramref name="fraction"/> quantile of sorted values, interpolated linearly between ranks; 0 for none.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double fraction)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return Interpolated(sorted.Count, index => sorted[index], fraction);
    }

    /// <summary>The <paramref name="fraction"/> quantile of sorted durations (drawn runs, drawn steps), as <see cref="Percentile(IReadOnlyList{double}, double)"/>; zero for none.</summary>
    public static Duration Percentile(IReadOnlyList<Duration> sorted, double fraction)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        return Duration.FromSeconds(Interpolated(sorted.Count, index => sorted[index].Seconds, fraction));
    }

    /// <summary>The median of <paramref name="values"/> in any order (the mean of the two middle ones for an even count); 0 for none.</summary>
    public static double Median(IEnumerable<double> values) => Percentile([.. values.Order()], 0.5);

    /// <summary>The mean of <paramref name="values"/>; zero for none.</summary>
    public static Duration Mean(IReadOnlyCollection<Duration> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return values.Count == 0 ? Duration.Zero : Duration.FromSeconds(values.Average(value => value.Seconds));
    }

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

    /// <summary>The standard error of the mean of <paramref name="values"/>, as <see cref="StandardErrorOfMean(IReadOnlyCollection{double})"/>.</summary>
    public static Duration StandardErrorOfMean(IReadOnlyCollection<Duration> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Duration.FromSeconds(StandardErrorOfMean([.. values.Select(value => value.Seconds)]));
    }

    /// <summary>The quantile of <paramref name="count"/> sorted values read by <paramref name="at"/>, interpolated between ranks; 0 for none.</summary>
    private static double Interpolated(int count, Func<int, double> at, double fraction)
    {
        if (count == 0)
        {
            return 0;
        }

        var position = fraction * (count - 1);
        var below = (int)Math.Floor(position);
        var above = Math.Min(below + 1, count - 1);
        return at(below) + ((position - below) * (at(above) - at(below)));
    }
}
