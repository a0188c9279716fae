namespace ClusterTwin.Reinforcement;

/// <summary>
/// Packs whole samples (a prompt and its response) into training sequences of a fixed length, as RL trainers remove
/// padding (verl's <c>use_remove_padding</c>, NeMo-RL's sequence packing): best-fit decreasing, each sample into the
/// fullest sequence that still holds it.
/// </summary>
public static class SamplePacking
{
    /// <summary>The sequences of <paramref name="length"/> tokens that hold <paramref name="samples"/>, each whole.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A sample longer than <paramref name="length"/>.</exception>
    public static int Sequences(IEnumerable<int> samples, int length)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var sorted = samples.ToArray();
        Array.Sort(sorted);
        var open = new SortedSet<(int Room, int Sequence)>();
        var sequences = 0;
        for (var index = sorted.Length - 1; index >= 0; index--)
        {
            var sample = sorted[index];
            ArgumentOutOfRangeException.ThrowIfGreaterThan(sample, length);
            ArgumentOutOfRangeException.ThrowIfLessThan(sample, 1);

            // The view's least element is the fullest sequence with room; an empty view gives the default, with no room.
            var fullest = open.GetViewBetween((sample, 0), (length, int.MaxValue)).Min;
            if (fullest.Room < sample)
            {
                open.Add((length - sample, sequences++));
                continue;
            }

            open.Remove(fullest);
            open.Add((fullest.Room - sample, fullest.Sequence));
        }

        return sequences;
    }
}
