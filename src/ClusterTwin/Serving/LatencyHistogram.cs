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
                return Value(index);
            }
        }

        return maximum;
    }

    /// <summary>
    /// The value below which <paramref name="fraction"/> of the recorded values lie once each is joined by the front
    /// end's time beyond its median (the values recorded hold the median): the quantile of their sum's distribution, the
    /// front end independent of the chips' time, found by bisection to a nanosecond (or the doubles' resolution). Without spread, <see cref="Percentile(double)"/>.
    /// </summary>
    public double Percentile(double fraction, FrontEnd frontEnd)
    {
        if (Count == 0 || !frontEnd.Spreads)
        {
            return Percentile(fraction);
        }

        var recorded = Enumerable.Range(0, bins.Length).Where(index => bins[index] > 0).Select(index => (Value: Value(index), Count: bins[index])).ToArray();
        double Share(double seconds) => recorded.Sum(bin => bin.Count * frontEnd.ShareWithin(seconds - bin.Value)) / Count;

        // Every value joined by the front end's own quantile brackets the answer: the least below it, the largest above.
        var beyond = frontEnd.BeyondMedianAt(fraction);
        var (low, high) = (recorded[0].Value + beyond, recorded[^1].Value + beyond);
        // To a nanosecond, or to the doubles' own resolution where that is coarser (from about 2^23 s).
        for (var step = 0; step < 200 && high - low > 1e-9; step++)
        {
            var middle = (low + high) / 2;
            if (middle <= low || middle >= high)
            {
                break;
            }

            (low, high) = Share(middle) < fraction ? (middle, high) : (low, middle);
        }

        return Math.Max(0, (low + high) / 2);
    }

    // A bin's value: the middle of its 1% bin; the last bin holds everything beyond it, known only by its largest.
    private double Value(int index) => index == 0 ? 0 : index == bins.Length - 1 ? maximum : Math.Min(maximum, Smallest * Math.Pow(Ratio, index - 0.5));

    private static int Bin(double seconds) =>
        seconds < Smallest ? 0 : Math.Min(BinCount - 1, 1 + (int)Math.Floor(Math.Log(seconds / Smallest) / LogRatio));
}
