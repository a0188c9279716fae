using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.EventLevel;

/// <summary>
/// The chain of passes that sets a replayed pipeline's time: from the pass that ends last, back through what each
/// waited for (its input's pass, or its rank's previous pass) to the first. Shortening any pass off it does not shorten
/// the step; shortening one on it does, until another chain is longer. Its time is its passes' and the sends between
/// them (and the waits of a sender for its own sends, where they do not overlap).
/// </summary>
/// <param name="Spans">The indices of its passes in <see cref="StepTimeline.Spans"/>, first to last.</param>
/// <param name="RankTime">Each pipeline rank's time on it, in its passes.</param>
/// <param name="Forward">Its time in forward passes.</param>
/// <param name="Backward">Its time in backward passes and input gradients.</param>
/// <param name="WeightGradient">Its time in weight-gradient passes (zero-bubble schedules).</param>
/// <param name="Sends">The rest of the pipeline's time: the sends between its passes, and the senders' waits for them.</param>
public sealed record CriticalPath(ImmutableArray<int> Spans, ImmutableArray<Duration> RankTime, Duration Forward, Duration Backward, Duration WeightGradient, Duration Sends)
{
    /// <summary>
    /// The critical path through <paramref name="spans"/> of a replay of <paramref name="ranks"/> ranks that took
    /// <paramref name="pipeline"/>, each span's predecessor in <paramref name="cause"/> (-1 for none).
    /// </summary>
    internal static CriticalPath Of(ImmutableArray<TimelineSpan> spans, IReadOnlyList<int> cause, Duration pipeline, int ranks)
    {
        var chain = Walk(spans, cause);
        var rankTime = new double[ranks];
        var (forward, backward, weight) = (0.0, 0.0, 0.0);
        foreach (var index in chain)
        {
            var span = spans[index];
            var seconds = (span.End - span.Start).Seconds;
            rankTime[span.Rank] += seconds;
            switch (span.Pass.Kind)
            {
                case PassKind.Forward:
                    forward += seconds;
                    break;
                case PassKind.WeightGradient:
                    weight += seconds;
                    break;
                default:
                    backward += seconds;
                    break;
            }
        }

        var sends = Math.Max(0, pipeline.Seconds - forward - backward - weight);
        return new CriticalPath(chain, [.. rankTime.Select(Duration.FromSeconds)], Duration.FromSeconds(forward), Duration.FromSeconds(backward),
            Duration.FromSeconds(weight), Duration.FromSeconds(sends));
    }

    /// <summary>
    /// The chain through <paramref name="spans"/> that ends with the pass that ends last (the first of them on a tie),
    /// following <paramref name="cause"/> (each span's predecessor, -1 for none) back to its start.
    /// </summary>
    private static ImmutableArray<int> Walk(ImmutableArray<TimelineSpan> spans, IReadOnlyList<int> cause)
    {
        if (spans.IsEmpty)
        {
            return [];
        }

        var last = 0;
        for (var index = 1; index < spans.Length; index++)
        {
            last = spans[index].End > spans[last].End ? index : last;
        }

        var chain = new List<int>();
        for (var index = last; index >= 0; index = cause[index])
        {
            chain.Add(index);
        }

        chain.Reverse();
        return [.. chain];
    }
}
