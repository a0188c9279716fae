using System.Collections.Immutable;

namespace ClusterTwin.Validation;

/// <summary>The cases of one or more case folders: training steps and serving benchmarks.</summary>
/// <param name="Training">Training cases, compared by step time or throughput.</param>
/// <param name="Serving">Serving cases, compared by throughput and latency.</param>
public sealed record ValidationSet(ImmutableArray<ValidationCase> Training, ImmutableArray<ServingValidationCase> Serving)
{
    /// <summary>The cases of several sets together, in order.</summary>
    public static ValidationSet Concat(IEnumerable<ValidationSet> sets)
    {
        var all = sets.ToArray();
        return new([.. all.SelectMany(set => set.Training)], [.. all.SelectMany(set => set.Serving)]);
    }
}
