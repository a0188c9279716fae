using System.Collections.Immutable;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Planning;

/// <summary>
/// Finds the fastest layouts of a scenario's job on its cluster: enumerates the <see cref="PlanSpace"/>, prunes what is
/// not a layout and what does not fit in memory, and ranks the rest by the analytical engine's step time. The search
/// is exhaustive, so the best plan is the best of the space, and its result does not depend on how the work was
/// split across threads: ties are broken by enumeration order.
/// </summary>
public static class PlanSearch
{
    private const int ChunkSize = 256;
    private const int MaximumRejectionReasons = 5;

    /// <summary>A layout pruned for memory must be at least this much faster than the best that fits for memory to count as binding.</summary>
    public const double MemoryBindsAbove = 0.01;

    /// <summary>Searches <paramref name="scenario"/>'s cluster, model and job under <paramref name="pins"/>, keeping the <paramref name="top"/> best.</summary>
    /// <param name="scenario">The cluster, model and job; its plan is ignored (pins carry what the user fixed).</param>
    /// <param name="pins">What the user fixed.</param>
    /// <param name="top">How many layouts to return.</param>
    /// <param name="progress">Receives the fraction of layouts done, from any thread.</param>
    /// <param name="memoryHeadroom">
    /// The share of each chip's memory kept free (for the framework's own buffers and the allocator's fragmentation,
    /// which the memory model does not count): 0 lets a layout use all of it.
    /// </param>
    public static PlanSearchResult Run(Scenario scenario, PlanPins pins, int top, IProgress<double>? progress = null, double memoryHeadroom = 0)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(memoryHeadroom);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(memoryHeadroom, 1);
        var space = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, pins);
        var layouts = space.ValidLayouts();
        var capacity = scenario.Cluster.Chip.MemoryCapacity.Value * (1 - memoryHeadroom);
        var tally = new Tally(top);
        var done = 0L;

        Parallel.ForEach(System.Collections.Concurrent.Partitioner.Create(0, layouts.Count, ChunkSize), () => new Tally(top), (range, _, local) =>
        {
            for (var index = range.Item1; index < range.Item2; index++)
            {
                local.Consider(scenario, layouts[index], index, capacity);
            }

            var finished = Interlocked.Add(ref done, range.Item2 - range.Item1);
            progress?.Report(finished / (double)layouts.Count);
            return local;
        }, local =>
        {
            lock (tally)
            {
                tally.Absorb(local);
            }
        });

        var ranked = tally.Best()
            .Select(entry => new RankedPlan(layouts[entry.Index], AnalyticalEngine.Simulate(scenario with { Plan = layouts[entry.Index] })))
            .ToImmutableArray();
        var overMemory = tally.FastestOverMemory is { } fastest && (ranked.Length == 0 || fastest.Seconds < ranked[0].Result.StepTime.Seconds * (1 - MemoryBindsAbove))
            ? new RankedPlan(layouts[fastest.Index], AnalyticalEngine.SimulateStep(scenario with { Plan = layouts[fastest.Index] }))
            : null;
        var explanation = ranked.Length == 0 ? null : PlanExplanation.Of(scenario, ranked[0], ranked.Length > 1 ? ranked[1] : null, overMemory, capacity);
        return new PlanSearchResult(ranked, space.Size, space.Size - layouts.Count, tally.PrunedMemory, tally.PrunedOther, tally.Evaluated, explanation,
            [.. tally.Rejections.Order(StringComparer.Ordinal).Take(MaximumRejectionReasons)]) { FasterOverMemory = overMemory };
    }

    /// <summary>Counts and the best entries seen by one thread (or, merged, by all).</summary>
    private sealed class Tally(int top)
    {
        private readonly List<(double Seconds, int Index)> best = new(top + 1);

        public long PrunedMemory { get; private set; }

        public long PrunedOther { get; private set; }

        public long Evaluated { get; private set; }

        public (double Seconds, int Index)? FastestOverMemory { get; private set; }

        public HashSet<string> Rejections { get; } = new(StringComparer.Ordinal);

        public void Consider(Scenario scenario, ParallelPlan plan, int index, Units.Bytes capacity)
        {
            var overMemory = MemoryModel.PerChip(scenario.Model, scenario.Job, plan).Total > capacity;
            var result = AnalyticalEngine.SimulateStep(scenario with { Plan = plan });
            if (overMemory)
            {
                // Pruned, but timed: whether a faster layout failed only for memory is what says memory binds.
                PrunedMemory++;
                if (result.Valid && (FastestOverMemory is not { } fastest || Compare((result.StepTime.Seconds, index), fastest) < 0))
                {
                    FastestOverMemory = (result.StepTime.Seconds, index);
                }

                return;
            }

            if (!result.Valid)
            {
                PrunedOther++;
                if (Rejections.Count < MaximumRejectionReasons)
                {
                    Rejections.UnionWith(result.Problems);
                }

                return;
            }

            Evaluated++;
            Offer((result.StepTime.Seconds, index));
        }

        public void Absorb(Tally other)
        {
            PrunedMemory += other.PrunedMemory;
            PrunedOther += other.PrunedOther;
            Evaluated += other.Evaluated;
            Rejections.UnionWith(other.Rejections);
            if (other.FastestOverMemory is { } theirs && (FastestOverMemory is not { } mine || Compare(theirs, mine) < 0))
            {
                FastestOverMemory = theirs;
            }
            foreach (var entry in other.best)
            {
                Offer(entry);
            }
        }

        public (double Seconds, int Index)[] Best() => [.. best];

        /// <summary>Keeps the <c>top</c> smallest by (step time, enumeration index): a total order, so merging is order-free.</summary>
        private void Offer((double Seconds, int Index) entry)
        {
            if (best.Count == top && Compare(entry, best[^1]) >= 0)
            {
                return;
            }

            var position = best.FindIndex(existing => Compare(entry, existing) < 0);
            best.Insert(position < 0 ? best.Count : position, entry);
            if (best.Count > top)
            {
                best.RemoveAt(best.Count - 1);
            }
        }

        private static int Compare((double Seconds, int Index) left, (double Seconds, int Index) right)
        {
            var bySeconds = left.Seconds.CompareTo(right.Seconds);
            return bySeconds != 0 ? bySeconds : left.Index.CompareTo(right.Index);
        }
    }
}
