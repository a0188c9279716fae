using ClusterTwin.Parallelism;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// What the trainer takes from a step's samples: mini-batches of them in turn, each packed whole into sequences
/// (<see cref="SamplePacking"/>), and one global batch for every optimizer step, as many sequences as the fullest
/// mini-batch needs, rounded up to what the trainer's layout runs.
/// </summary>
/// <param name="Sequences">Sequences per optimizer step.</param>
/// <param name="Tokens">Prompt and response tokens of every sample.</param>
public readonly record struct TrainerBatch(int Sequences, long Tokens)
{
    /// <summary>The batch for <paramref name="samples"/> (each a prompt and its response, in tokens) in <paramref name="updates"/> mini-batches on <paramref name="plan"/>.</summary>
    /// <param name="samples">Every sample's length.</param>
    /// <param name="updates">Mini-batches, at most one per sample.</param>
    /// <param name="length">The trainer's sequence length.</param>
    /// <param name="plan">The trainer's layout.</param>
    public static TrainerBatch Of(int[] samples, int updates, int length, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentOutOfRangeException.ThrowIfLessThan(updates, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(updates, Math.Max(1, samples.Length));
        var packed = MiniBatches(samples.Length, updates).Max(range => SamplePacking.Sequences(samples[range], length));
        var perMicroBatch = (long)plan.DataParallelism * plan.MicroBatchSize;
        var microBatches = PipelineScheduleKeys.FewestMicroBatches(plan, (packed + perMicroBatch - 1) / perMicroBatch);
        return new((int)Math.Min(int.MaxValue, microBatches * perMicroBatch), samples.Sum(sample => (long)sample));
    }

    /// <summary>
    /// <paramref name="count"/> samples in <paramref name="updates"/> mini-batches taken in turn, as even as whole
    /// samples allow: the first holds samples 0 to n/u, the next to 2n/u, and so on.
    /// </summary>
    public static IEnumerable<Range> MiniBatches(int count, int updates) =>
        Enumerable.Range(0, updates).Select(update => new Range((int)((long)update * count / updates), (int)((long)(update + 1) * count / updates)));
}
