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
    public static double Quantile(double fraction) => Bisect(fraction, upperTail: false, 8, 60);

    /// <summary>
    /// The point a share <paramref name="tail"/> lies above, by bisection on the upper tail, so that a tail of 1e-12 (the
    /// slowest of a million chips) is found as precisely as one of a half (clipped at 37 standard deviations).
    /// </summary>
    public static double UpperQuantile(double tail) => Bisect(tail, upperTail: true, 37, 80);

    /// <summary>
    /// The point in [-<paramref name="limit"/>, <paramref name="limit"/>] with <paramref name="share"/> below it (or
    /// above, on the <paramref name="upperTail"/>), in <paramref name="steps"/> halvings. A plain loop: the straggler
    /// draws call it for every rank of every draw, and a predicate would be a closure each time.
    /// </summary>
    private static double Bisect(double share, bool upperTail, double limit, int steps)
    {
        double low = -limit, high = limit;
        for (var step = 0; step < steps; step++)
        {
            var middle = (low + high) / 2;
            var before = upperTail ? ShareAbove(middle) > share : ShareBelow(middle) < share;
            (low, high) = before ? (middle, high) : (low, middle);
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
