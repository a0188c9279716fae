namespace ClusterTwin.Serving;

/// <summary>
/// A streaming distribution of latencies: counts in logarithmic bins 1% wide from a microsecond to 30 years, so that
/// a million requests take the same memory as ten, and percentiles are exact to 1%. A value beyond the last bin is
/// reported as the largest recorded, never clipped.
/// </summary>
public sealed class LatencyHistogram
{
    private const double Smallest = 1e-6;
    private const double Ratio = 1.01;
    private static readonly double LogRatio = Math.Log(Ratio);
    private const double Largest = 1e9;
    private static readonly int BinCount = (int)Math.Ceiling(Math.Log(Largest / Smallest) / LogRatio) + 2;
    private readonly long[] bins = new long[BinCount];
    private double sum;
    private double maximum;

    /// <summary>Values recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The mean, in seconds; zero when empty.</summary>
    public double Mean => Count == 0 ? 0 : sum / Count;

    /// <summary>Records a latency in seconds (negative values count as zero).</summary>
    public void Add(double seconds)
    {
        seconds = Math.Max(seconds, 0);
        sum += seconds;
        maximum = Math.Max(maximum, seconds);
        Count++;
        bins[Bin(seconds)]++;
    }

    /// <summary>The value below which <paramref name="fraction"/> of the recorded values lie, in seconds (the middle of its 1% bin); zero when empty.</summary>
    public double Percentile(double fraction)
    {
        if (Count == 0)
        {
            return 0;
        }

        var rank = Math.Max(1, (long)Math.Ceiling(fraction * Count));
        long seen = 0;
        for (var index = 0; index < bins.Length; index++)
        {
            seen += bins[index];
            if (seen >= rank)
            {
                // The last bin holds everything beyond it: its values are known only by their largest.
                return index == 0 ? 0 : index == bins.Length - 1 ? maximum : Math.Min(maximum, Smallest * Math.Pow(Ratio, index - 0.5));
            }
        }

        return maximum;
    }

    private static int Bin(double seconds) =>
        seconds < Smallest ? 0 : Math.Min(BinCount - 1, 1 + (int)Math.Floor(Math.Log(seconds / Smallest) / LogRatio));
}
