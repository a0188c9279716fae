namespace ClusterTwin.Numerics;

/// <summary>The standard normal distribution: its shares below and above a point, and its quantiles, both tails kept to a relative 1.2e-7.</summary>
public static class NormalDistribution
{
    /// <summary>The standard normal distribution's 99th percentile.</summary>
    public const double P99 = 2.3263478740408408;

    // Numerical Recipes' erfc(x) = t exp(-x^2 + P(t)), t = 1 / (1 + x/2): P's coefficients, the highest power first.
    private static readonly double[] ErfcCoefficients =
        [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

    /// <summary>The share below <paramref name="z"/>, to a relative 1.2e-7 (Numerical Recipes' erfc).</summary>
    public static double ShareBelow(double z)
    {
        var complement = HalfErfc(Math.Abs(z));
        return z >= 0 ? 1 - complement : complement;
    }

    /// <summary>The share above <paramref name="z"/>: computed directly, so a far tail keeps its precision.</summary>
    public static double ShareAbove(double z) => ShareBelow(-z);

    /// <summary>The point <paramref name="fraction"/> of the distribution lies below, by bisection (clipped at 8 standard deviations).</summary>
    public static double Quantile(double fraction)
    {
        double low = -8, high = 8;
        for (var step = 0; step < 60; step++)
        {
            var middle = (low + high) / 2;
            (low, high) = ShareBelow(middle) < fraction ? (middle, high) : (low, middle);
        }

        return (low + high) / 2;
    }

    /// <summary>
    /// The point a share <paramref name="tail"/> lies above, by bisection on the upper tail, so that a tail of 1e-12 (the
    /// slowest of a million chips) is found as precisely as one of a half (clipped at 37 standard deviations).
    /// </summary>
    public static double UpperQuantile(double tail)
    {
        double low = -37, high = 37;
        for (var step = 0; step < 80; step++)
        {
            var middle = (low + high) / 2;
            (low, high) = ShareAbove(middle) > tail ? (middle, high) : (low, middle);
        }

        return (low + high) / 2;
    }

    private static double HalfErfc(double z)
    {
        var x = z / Math.Sqrt(2);
        var t = 1 / (1 + (0.5 * x));
        var polynomial = 0.0;
        foreach (var coefficient in ErfcCoefficients)
        {
            polynomial = (polynomial * t) + coefficient;
        }

        return t * Math.Exp((-x * x) + polynomial) / 2;
    }
}
