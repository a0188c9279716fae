namespace ClusterTwin.Planning;

/// <summary>
/// The cluster sizes a size search tries, counted in systems: every power of two and, between two of them, three times
/// the lower one's half (1, 2, 3, 4, 6, 8, 12, 16, 24, ...). Two sizes per doubling, each from the third on at most
/// 1.5 times the one before: the steps in which clusters are quoted and built, and fine enough that the first size to
/// meet a deadline overshoots the least one that would by at most half.
/// </summary>
public static class ClusterSizes
{
    /// <summary>The sizes up to <paramref name="maximumSystems"/>, smallest first.</summary>
    public static IEnumerable<int> Ladder(int maximumSystems)
    {
        for (long power = 1; power <= maximumSystems; power *= 2)
        {
            yield return (int)power;
            var between = power * 3 / 2;
            if (power >= 2 && between <= maximumSystems)
            {
                yield return (int)between;
            }
        }
    }

    /// <summary>
    /// The ladder, then, where it stops short of <paramref name="maximumSystems"/>, the largest count up to them whose
    /// only factors are 2 and 3, as the ladder's are (a count with a factor of 5 or 7 rarely divides a batch).
    /// </summary>
    public static IEnumerable<int> LadderAndLargest(int maximumSystems)
    {
        var last = 0;
        foreach (var systems in Ladder(maximumSystems))
        {
            yield return last = systems;
        }

        var largest = 0L;
        for (long twos = 1; twos <= maximumSystems; twos *= 2)
        {
            for (var count = twos; count <= maximumSystems; count *= 3)
            {
                largest = Math.Max(largest, count);
            }
        }

        if (largest > last)
        {
            yield return (int)largest;
        }
    }
}
