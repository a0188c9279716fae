using ClusterTwin.Units;

namespace ClusterTwin.Reliability;

/// <summary>
/// The expected wall time of a run that saves a checkpoint every <c>tau</c>, loses the work since the last one at each
/// interruption and takes <c>R</c> to restart (Daly 2006, "A higher order estimate of the optimum checkpoint interval
/// for restart dumps", Future Generation Computer Systems 22(3), equations 13 and 20): interruptions arrive at random
/// (exponentially distributed, mean <c>M</c>) and may strike during a checkpoint or a restart too.
/// </summary>
public static class CheckpointRestart
{
    /// <summary>
    /// The most the wall time may exceed the fault-free time before the run is taken as one that never finishes: at
    /// goodput under 0.1% the exponentials of Daly's formula stop meaning a schedule anyone would run.
    /// </summary>
    public const double MostSlowdown = 1000;

    /// <summary>
    /// Daly's optimum interval between checkpoints (his equation 20): <c>sqrt(2 delta M) [1 + sqrt(delta / 2M) / 3 +
    /// delta / 18M] - delta</c> for <c>delta &lt; 2M</c>, else <c>M</c>; Young's first-order <c>sqrt(2 delta M)</c> is its
    /// leading term.
    /// </summary>
    public static Duration OptimalInterval(Duration checkpoint, Duration meanTimeBetweenInterruptions)
    {
        var delta = checkpoint.Seconds;
        var mean = meanTimeBetweenInterruptions.Seconds;
        if (delta >= 2 * mean)
        {
            return meanTimeBetweenInterruptions;
        }

        var ratio = Math.Sqrt(delta / (2 * mean));
        return Duration.FromSeconds((Math.Sqrt(2 * delta * mean) * (1 + (ratio / 3) + (ratio * ratio / 9))) - delta);
    }

    /// <summary>
    /// Wall time over fault-free time (Daly's equation 13 over <c>T_s</c>): <c>M e^(R/M) (e^((tau + delta)/M) - 1) / tau</c>;
    /// with no interruptions (<c>M</c> infinite) <c>1 + delta / tau</c>. Null where it exceeds <see cref="MostSlowdown"/>.
    /// </summary>
    public static double? Slowdown(Duration interval, Duration checkpoint, Duration restart, Duration meanTimeBetweenInterruptions)
    {
        var tau = interval.Seconds;
        var mean = meanTimeBetweenInterruptions.Seconds;
        if (double.IsPositiveInfinity(mean))
        {
            return 1 + (checkpoint.Seconds / tau);
        }

        // In logarithms, so that a cluster far past its reliability wall gives null, not an infinity.
        var log = Math.Log(mean / tau) + (restart.Seconds / mean) + LogExpMinusOne((tau + checkpoint.Seconds) / mean);
        return log > Math.Log(MostSlowdown) ? null : Math.Exp(log);
    }

    /// <summary><c>ln(e^x - 1)</c> for x above zero, exact where <c>e^x</c> would overflow.</summary>
    private static double LogExpMinusOne(double x) => x > 30 ? x + Math.Log(-double.ExpM1(-x)) : Math.Log(double.ExpM1(x));
}
