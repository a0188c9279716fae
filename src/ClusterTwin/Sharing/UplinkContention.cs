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
        var perSystem = oversubscription / capacitySystems;
        var (othersExpected, squares) = (0.0, 0.0);
        foreach (var (systems, duty) in others)
        {
            othersExpected += systems * duty;
            squares += duty > 0 ? (double)systems * systems : 0;
        }

        // Other systems sending at once below which the uplinks are not full: Y < 1 while own + s < capacity / o.
        var threshold = (int)Math.Ceiling((capacitySystems / oversubscription) - ownSystems);
        var belowSaturation = 0.0;
        // Where the others send so much that they fall below the threshold less than once in 10^15 (Hoeffding's bound
        // on a sum of independent senders, P(S <= E[S] - t) <= exp(-2 t^2 / sum s^2)), the uplinks are full: the term
        // is nothing to that precision, and the knapsack over many jobs in a large group is not worked.
        var margin = othersExpected - threshold;
        if (threshold > 0 && !(margin > 0 && Math.Exp(-2 * margin * margin / squares) < 1e-15))
        {
            var probability = new double[threshold];
            probability[0] = 1;
            foreach (var (systems, duty) in others)
            {
                if (duty <= 0 || systems <= 0)
                {
                    continue;
                }

                for (var sending = threshold - 1; sending >= 0; sending--)
                {
                    var stays = probability[sending] * (1 - duty);
                    probability[sending] = sending >= systems ? stays + (probability[sending - systems] * duty) : stays;
                }
            }

            for (var sending = 0; sending < threshold; sending++)
            {
                belowSaturation += probability[sending] * Math.Max(0, 1 - (perSystem * (ownSystems + sending)));
            }
        }

        return (perSystem * (ownSystems + othersExpected)) + belowSaturation;
    }
}
