namespace ClusterTwin.Sharing;

/// <summary>
/// The slowdown of one job's traffic through a switch group's uplinks, where other jobs' traffic may be there too. The
/// uplinks carry the group's endpoints' bandwidth over the tier's oversubscription <c>o</c>; while a set of jobs sends
/// across them, their <c>N</c> chips share them evenly (every chip's adapter asks for its full rate), so each gets its
/// rate over <c>max(1, o N / E)</c>, for the group's <c>E</c> endpoints. A job that fills the group alone pays <c>o</c>,
/// as the analytical engine charges a collective that crosses the tier.
/// </summary>
public static class UplinkContention
{
    /// <summary>The factor while exactly the given jobs send: <c>max(1, o (own + others) / capacity)</c>, in systems.</summary>
    public static double Factor(double oversubscription, int capacitySystems, int ownSystems, int otherSystems) =>
        Math.Max(1, oversubscription * (ownSystems + otherSystems) / capacitySystems);

    /// <summary>
    /// The expected factor over the time the job sends, where each other job sends a share of its time (its duty) at
    /// phases independent of the job's: <c>E[max(1, Y)] = E[Y] + E[max(0, 1 - Y)]</c>, the second term from the exact
    /// distribution of the other jobs' systems that send at once, below the point where the uplinks are full.
    /// </summary>
    /// <param name="oversubscription">The tier's oversubscription.</param>
    /// <param name="capacitySystems">Systems under the group.</param>
    /// <param name="ownSystems">The job's systems under the group.</param>
    /// <param name="others">Each other job's systems under the group and the share of its time it sends across the group's uplinks.</param>
    public static double Expected(double oversubscription, int capacitySystems, int ownSystems, IReadOnlyList<(int Systems, double Duty)> others)
    {
        ArgumentNullException.ThrowIfNull(others);
        var (othersExpected, squares) = (0.0, 0.0);
        foreach (var (systems, duty) in others)
        {
            othersExpected += systems * duty;
            squares += duty > 0 ? (double)systems * systems : 0;
        }

        var threshold = Threshold(oversubscription, capacitySystems, ownSystems);
        var probability = Saturates(threshold, othersExpected, squares) ? [] : Distribution(others, threshold);
        return FromDistribution(oversubscription, capacitySystems, ownSystems, othersExpected, probability);
    }

    /// <summary>Other systems sending at once below which the uplinks are not full: <c>Y &lt; 1</c> while <c>own + s &lt; capacity / o</c>.</summary>
    internal static int Threshold(double oversubscription, int capacitySystems, int ownSystems) =>
        (int)Math.Ceiling((capacitySystems / oversubscription) - ownSystems);

    /// <summary>
    /// Whether the others send so much that they fall below <paramref name="threshold"/> less than once in 10^15
    /// (Hoeffding's bound on a sum of independent senders, <c>P(S &lt;= E[S] - t) &lt;= exp(-2 t^2 / sum s^2)</c>): the
    /// uplinks are then full, the term below saturation nothing to that precision, and no distribution is worked.
    /// </summary>
    internal static bool Saturates(int threshold, double othersExpected, double squares)
    {
        var margin = othersExpected - threshold;
        return threshold <= 0 || (margin > 0 && Math.Exp(-2 * margin * margin / squares) < 1e-15);
    }

    /// <summary>The chance that exactly <c>s</c> of the senders' systems send at once, for each <c>s</c> below <paramref name="limit"/>.</summary>
    internal static double[] Distribution(IEnumerable<(int Systems, double Duty)> senders, int limit)
    {
        var probability = new double[Math.Max(1, limit)];
        probability[0] = 1;
        foreach (var (systems, duty) in senders)
        {
            if (duty <= 0 || systems <= 0)
            {
                continue;
            }

            for (var sending = probability.Length - 1; sending >= 0; sending--)
            {
                var stays = probability[sending] * (1 - duty);
                probability[sending] = sending >= systems ? stays + (probability[sending - systems] * duty) : stays;
            }
        }

        return probability;
    }

    /// <summary>
    /// <paramref name="distribution"/> without one sender of <paramref name="systems"/> at <paramref name="duty"/>, by
    /// undoing its step from the bottom up (stable where the duty is at most one half: each step's error shrinks by
    /// <c>duty / (1 - duty)</c>); null above that, where the caller works the others' distribution afresh.
    /// </summary>
    internal static double[]? Without(double[] distribution, int systems, double duty)
    {
        if (duty <= 0 || systems <= 0)
        {
            return distribution;
        }

        if (duty > 0.5)
        {
            return null;
        }

        var without = new double[distribution.Length];
        for (var sending = 0; sending < without.Length; sending++)
        {
            var came = sending >= systems ? without[sending - systems] * duty : 0;
            without[sending] = Math.Max(0, (distribution[sending] - came) / (1 - duty));
        }

        return without;
    }

    /// <summary>
    /// The expected factor from the distribution of the other systems sending at once (<see cref="Distribution"/>, at
    /// least up to the job's threshold; empty where they saturate the uplinks): <c>E[Y] + E[max(0, 1 - Y)]</c>.
    /// </summary>
    internal static double FromDistribution(double oversubscription, int capacitySystems, int ownSystems, double othersExpected, double[] probability)
    {
        var perSystem = oversubscription / capacitySystems;
        var threshold = Math.Min(probability.Length, Threshold(oversubscription, capacitySystems, ownSystems));
        var belowSaturation = 0.0;
        for (var sending = 0; sending < threshold; sending++)
        {
            belowSaturation += probability[sending] * Math.Max(0, 1 - (perSystem * (ownSystems + sending)));
        }

        return (perSystem * (ownSystems + othersExpected)) + belowSaturation;
    }
}
