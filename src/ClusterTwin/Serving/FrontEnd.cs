using ClusterTwin.Numerics;
using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>
/// The time a request spends in the server's front end (HTTP, tokenization, the scheduler's first look) before the
/// chips see it: a distribution given by its median and its 99th percentile, log-normal between them (a service
/// time's usual shape: never below zero, a tail to the right). With the two equal it is the one time, every request
/// alike. The front end does not occupy the chips, so the metrics fold it into the first token's and the end-to-end
/// latency exactly, by its distribution, instead of drawing a time per request: a percentile does not depend on how
/// many requests a run sends.
/// </summary>
/// <param name="Median">Half the requests spend less.</param>
/// <param name="P99">Ninety-nine in a hundred spend less; at least <paramref name="Median"/>, and zero spread where equal.</param>
public readonly record struct FrontEnd(Duration Median, Duration P99)
{
    /// <summary>The standard normal distribution's 99th percentile.</summary>
    public const double NormalP99 = NormalDistribution.P99;

    /// <summary>The median: never negative (the scenario and catalogue readers refuse one with the field's name).</summary>
    public Duration Median { get; } = Median.Seconds >= 0 ? Median : throw new ArgumentOutOfRangeException(nameof(Median), Median, "a front end's median time is at least zero");

    /// <summary>The 99th percentile: at least the median (the readers refuse one below it with the field's name).</summary>
    public Duration P99 { get; } = P99.Seconds >= Median.Seconds ? P99 : throw new ArgumentOutOfRangeException(nameof(P99), P99, $"a front end's 99th percentile is at least its median of {Median}");

    /// <summary>The log-normal's shape: the standard deviation of the time's logarithm (zero without spread), computed once.</summary>
    public double Sigma { get; } = Median.Seconds > 0 && P99.Seconds > Median.Seconds ? Math.Log(P99.Seconds / Median.Seconds) / NormalP99 : 0;

    /// <summary>One time for every request.</summary>
    public static FrontEnd Fixed(Duration time) => new(time, time);

    /// <summary>Whether requests spend different times: a P99 above a positive median.</summary>
    public bool Spreads => Sigma > 0;

    /// <summary>The mean time beyond the median, in seconds: what the spread adds to a mean latency.</summary>
    public double MeanBeyondMedian => Spreads ? Median.Seconds * (Math.Exp(Sigma * Sigma / 2) - 1) : 0;

    /// <summary>The share of requests whose front end takes at most <paramref name="seconds"/> beyond the median (negative: less than it).</summary>
    public double ShareWithin(double seconds)
    {
        if (!Spreads)
        {
            return seconds >= 0 ? 1 : 0;
        }

        var ratio = 1 + (seconds / Median.Seconds);
        return ratio <= 0 ? 0 : NormalDistribution.ShareBelow(Math.Log(ratio) / Sigma);
    }

    /// <summary>The time beyond the median (negative: below it) that a share <paramref name="fraction"/> of requests stay within, in seconds.</summary>
    public double BeyondMedianAt(double fraction) => Spreads ? Median.Seconds * (Math.Exp(Sigma * NormalDistribution.Quantile(fraction)) - 1) : 0;
}
