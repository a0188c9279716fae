using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Planning;

/// <summary>
/// Finds the fastest layouts of a scenario's job on its cluster: enumerates the <see cref="PlanSpace"/>, prunes what is
/// not a layout and what does not fit in memory, and ranks the rest by the analytical engine's step time. The search
/// is exhaustive, so the best plan is the best of the space, and its result does not depend on how the work was
/// split across threads: ties are broken by enumeration order, and every tally is merged in an order-free way.
/// </summary>
/// <remarks>
/// Where the pins ask for it (<see cref="PlanPins.SearchesOffloading"/>), a layout over memory that could offload
/// activations to the host (the framework offloads, the system has a host link, one pipeline stage, no recompute:
/// <see cref="PlanChecks"/>) is tried again with the fewest offloaded layers that make it fit, as Megatron-Bridge's
/// recipes choose <c>cpu_offloading_num_layers</c>; it is ranked with the rest, and pruned for memory only if no count fits.
/// </remarks>
public static class PlanSearch
{
    private const int ChunkSize = 256;

    /// <summary>
    /// The most layouts one search simulates: about a minute on two cores at a mixture-of-experts step's cost (5 to
    /// 8 us). A space with more asks for pins instead of running for hours (<see cref="PlanSearchResult.Refusal"/>).
    /// </summary>
    public const long MaximumLayouts = 10_000_000;

    private const int MaximumRejectionReasons = 5;

    /// <summary>A layout pruned for memory must be at least this much faster than the best that fits for memory to count as binding.</summary>
    public const double MemoryBindsAbove = 0.01;

    /// <summary>
    /// A layout pruned for memory says memory binds only where it needs at most this many times the limit: twice it,
    /// what a chip of the next memory size holds (H100's 80 GB to H200's 141, B200's 180 to B300's 288). One that needs
    /// ten times the chip's memory says nothing a user can act on.
    /// </summary>
    public const double MemoryBindsWithin = 2;

    /// <summary>Searches <paramref name="scenario"/>'s cluster, model and job under <paramref name="pins"/>, keeping the <paramref name="top"/> best.</summary>
    /// <param name="scenario">The cluster, model and job; its plan is ignored (pins carry what the user fixed).</param>
    /// <param name="pins">What the user fixed.</param>
    /// <param name="top">How many layouts to return.</param>
    /// <param name="progress">Receives the fraction of layouts done, from any thread, possibly out of order.</param>
    /// <param name="memoryHeadroom">
    /// The share of each chip's memory kept free (for the framework's own buffers and the allocator's fragmentation,
    /// which the memory model does not count): 0 lets a layout use all of it.
    /// </param>
    /// <param name="threads">How many threads evaluate layouts; null for every core.</param>
    /// <param name="objective">What the ranking minimises: step time, energy per step or cost per step.</param>
    public static PlanSearchResult Run(Scenario scenario, PlanPins pins, int top, IProgress<double>? progress = null, double memoryHeadroom = 0, int? threads = null, PlanObjective objective = PlanObjective.Time)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentOutOfRangeException.ThrowIfLessThan(top, 1);
        if (!(memoryHeadroom is >= 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(memoryHeadroom), memoryHeadroom, "the memory headroom is a share from 0 up to, not including, 1");
        }

        var space = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, pins);
        var count = space.CountValidLayouts(stopAfter: MaximumLayouts + 1);
        if (count > MaximumLayouts)
        {
            return new PlanSearchResult([], space.Size, 0, 0, 0, 0, null, []) { Objective = objective, Refusal = TooLarge(space) };
        }

        var limit = scenario.Cluster.Chip.MemoryCapacity.Value * (1 - memoryHeadroom);
        var tally = new Tally(top, objective);
        // Offloading is tried only where the framework and the system allow it at all; the rest the engine's checks rule.
        var searchesOffloading = pins.OffloadedLayers is null && pins.SearchesOffloading && scenario.Framework.OffloadsActivations && scenario.Cluster.System.HostLink is not null;

        // Every layout runs on the same cluster: its collective cost model (immutable) is built once.
        var collectives = new CollectiveCost(scenario.Cluster, scenario.Efficiency);
        if (count > 0)
        {
            var done = 0L;
            var options = new ParallelOptions { MaxDegreeOfParallelism = threads ?? -1 };
            Parallel.ForEach(Partitioner.Create(Chunks(space.ValidLayouts()), EnumerablePartitionerOptions.NoBuffering), options, () => new Tally(top, objective), (chunk, _, local) =>
            {
                for (var offset = 0; offset < chunk.Layouts.Length; offset++)
                {
                    local.Consider(scenario, collectives, chunk.Layouts[offset], chunk.Start + offset, limit, searchesOffloading);
                }

                progress?.Report(Interlocked.Add(ref done, chunk.Layouts.Length) / (double)count);
                return local;
            }, local =>
            {
                lock (tally)
                {
                    tally.Absorb(local);
                }
            });
        }

        var ranked = tally.Best()
            .Select(entry => entry.Layout with { OffloadedLayers = entry.Offloaded ?? entry.Layout.OffloadedLayers })
            .Select(plan => new RankedPlan(plan, AnalyticalEngine.Simulate(scenario with { Plan = plan })))
            .ToImmutableArray();
        // Where nothing fits, the fastest layout over memory however far; else one within reach that beats the best.
        var overMemory = (ranked.Length == 0 ? tally.FastestOverMemory : tally.FastestNearMemory) is { } fastest && (ranked.Length == 0 || fastest.Score < Score(ranked[0].Result, objective) * (1 - MemoryBindsAbove))
            ? new RankedPlan(fastest.Layout, AnalyticalEngine.SimulateStep(scenario with { Plan = fastest.Layout }))
            : null;
        var explanation = ranked.Length == 0 ? null : PlanExplanation.Of(scenario, ranked[0], ranked.Length > 1 ? ranked[1] : null, overMemory, limit);
        var rejections = tally.Rejections.OrderBy(pair => pair.Value).Take(MaximumRejectionReasons).Select(pair => pair.Key);
        ImmutableArray<string> reasons = count == 0 ? [space.EmptyReason()] : [.. rejections];
        return new PlanSearchResult(ranked, space.Size, space.Size - count, tally.PrunedMemory, tally.PrunedOther, tally.Evaluated, explanation, reasons)
        {
            FasterOverMemory = overMemory,
            Objective = objective,
            FitByOffloading = tally.FitByOffloading,
        };
    }

    /// <summary>
    /// What <paramref name="objective"/> ranks <paramref name="result"/> by, lower being better: seconds, joules or
    /// dollars per step; a layout the catalogue cannot price ranks last.
    /// </summary>
    public static double Score(TrainingStepResult result, PlanObjective objective)
    {
        ArgumentNullException.ThrowIfNull(result);
        return objective switch
        {
            PlanObjective.Energy => result.Energy?.ItPerStep.Joules ?? double.PositiveInfinity,
            PlanObjective.Cost => result.Cost?.PerStep.Dollars ?? double.PositiveInfinity,
            _ => result.StepTime.Seconds,
        };
    }

    /// <summary>
    /// Why <paramref name="space"/> is not searched: how many layouts it holds at least, and the dimensions that
    /// multiply them, widest first, with the plan fields that would narrow it.
    /// </summary>
    private static string TooLarge(PlanSpace space)
    {
        var breadth = space.Breadth().ToArray();
        var dimensions = string.Join(", ", breadth.Select(dimension => $"{dimension.Field} {dimension.Choices:N0}"));
        var widest = string.Join(", ", breadth.Take(3).Select(dimension => $"plan.{dimension.Field}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"the search space holds more than {MaximumLayouts:N0} layouts, more than one search simulates (choices per dimension: {dimensions}): pin the widest dimensions in the scenario's plan block ({widest}) to narrow it");
    }

    /// <summary>The layouts in enumeration order, in chunks that carry the enumeration index of their first.</summary>
    private static IEnumerable<(long Start, ParallelPlan[] Layouts)> Chunks(IEnumerable<ParallelPlan> layouts)
    {
        var start = 0L;
        var buffer = new List<ParallelPlan>(ChunkSize);
        foreach (var layout in layouts)
        {
            buffer.Add(layout);
            if (buffer.Count == ChunkSize)
            {
                yield return (start, [.. buffer]);
                start += ChunkSize;
                buffer.Clear();
            }
        }

        if (buffer.Count > 0)
        {
            yield return (start, [.. buffer]);
        }
    }

    /// <summary>Counts and the best entries seen by one thread (or, merged, by all), by the objective's score.</summary>
    private sealed class Tally(int top, PlanObjective objective)
    {
        /// <summary>This thread's memo of the layers' kernels, which consecutive layouts share.</summary>
        private readonly ForwardKernelMemo memo = new();

        /// <summary>The ranked entries: a layout's score, its enumeration index, the layout, and the layers offloaded where the search chose them.</summary>
        private readonly List<(double Score, long Index, ParallelPlan Layout, int? Offloaded)> best = new(top + 1);

        public long PrunedMemory { get; private set; }

        public long PrunedOther { get; private set; }

        public long Evaluated { get; private set; }

        /// <summary>Layouts over memory that the search made fit by offloading activations (counted in <see cref="Evaluated"/>).</summary>
        public long FitByOffloading { get; private set; }

        /// <summary>The fastest layout over memory, by (step time, enumeration index).</summary>
        public (double Score, long Index, ParallelPlan Layout)? FastestOverMemory { get; private set; }

        /// <summary>The fastest layout over memory that needs at most <see cref="MemoryBindsWithin"/> times the limit.</summary>
        public (double Score, long Index, ParallelPlan Layout)? FastestNearMemory { get; private set; }

        /// <summary>Each distinct rejection reason with the first layout (by enumeration index) that gave it.</summary>
        public Dictionary<string, long> Rejections { get; } = new(StringComparer.Ordinal);

        public void Consider(Scenario scenario, CollectiveCost collectives, ParallelPlan plan, long index, Bytes limit, bool searchesOffloading)
        {
            var result = AnalyticalEngine.SimulateStep(scenario with { Plan = plan }, collectives, memo);
            if (!result.Valid)
            {
                PrunedOther++;
                foreach (var problem in result.Problems)
                {
                    Reject(problem, index);
                }

                return;
            }

            if (result.Memory!.Total > limit || !result.HostMemoryFits)
            {
                if (searchesOffloading && FewestOffloadedLayersThatFit(scenario, collectives, memo, plan, limit) is { } offloaded)
                {
                    Evaluated++;
                    FitByOffloading++;
                    Offer((Score(offloaded.Result, objective), index, plan, offloaded.Layers));
                    return;
                }

                // Pruned, but timed: whether a faster layout failed only for the chip's memory is what says memory
                // binds (one that fits the chip but offloads more than the host holds, a pinned offload, does not say it).
                PrunedMemory++;
                if (result.Memory.Total > limit)
                {
                    var entry = (Score(result, objective), index, plan);
                    FastestOverMemory = Earlier(FastestOverMemory, entry);
                    if (result.Memory.Total <= limit * MemoryBindsWithin)
                    {
                        FastestNearMemory = Earlier(FastestNearMemory, entry);
                    }
                }

                return;
            }

            Evaluated++;
            Offer((Score(result, objective), index, plan, null));
        }

        /// <summary>
        /// The fewest layers <paramref name="plan"/> can offload and fit under <paramref name="limit"/>, with that step;
        /// null where offloading is not allowed (the engine's checks), where even all but one layer do not fit, or where
        /// the fewest that do are more than the chip's share of the host's memory holds. The chip's memory falls as layers
        /// go to the host (a bisection finds the fewest) and the host's rises, so the fewest is the only count to check there.
        /// </summary>
        private static (int Layers, TrainingStepResult Result)? FewestOffloadedLayersThatFit(Scenario scenario, CollectiveCost collectives, ForwardKernelMemo memo, ParallelPlan plan, Bytes limit)
        {
            TrainingStepResult Offloading(int layers) => AnalyticalEngine.SimulateStep(scenario with { Plan = plan with { OffloadedLayers = layers } }, collectives, memo);
            bool Fits(TrainingStepResult step) => step.Valid && step.Memory!.Total <= limit;
            var most = scenario.Model.Layers - 1;
            if (most < 1)
            {
                return null;
            }

            var fitting = (Layers: most, Result: Offloading(most));
            if (!Fits(fitting.Result))
            {
                return null;
            }

            var fewestThatFail = 0;
            while (fitting.Layers - fewestThatFail > 1)
            {
                var middle = fewestThatFail + ((fitting.Layers - fewestThatFail) / 2);
                var step = Offloading(middle);
                if (Fits(step))
                {
                    fitting = (middle, step);
                }
                else
                {
                    fewestThatFail = middle;
                }
            }

            return fitting.Result.HostMemoryFits ? fitting : null;
        }

        public void Absorb(Tally other)
        {
            PrunedMemory += other.PrunedMemory;
            PrunedOther += other.PrunedOther;
            Evaluated += other.Evaluated;
            FitByOffloading += other.FitByOffloading;
            foreach (var (reason, index) in other.Rejections)
            {
                Reject(reason, index);
            }

            if (other.FastestOverMemory is { } theirs)
            {
                FastestOverMemory = Earlier(FastestOverMemory, theirs);
            }

            if (other.FastestNearMemory is { } near)
            {
                FastestNearMemory = Earlier(FastestNearMemory, near);
            }

            foreach (var entry in other.best)
            {
                Offer(entry);
            }
        }

        public (double Score, long Index, ParallelPlan Layout, int? Offloaded)[] Best() => [.. best];

        private void Reject(string reason, long index) =>
            Rejections[reason] = Rejections.TryGetValue(reason, out var first) ? Math.Min(first, index) : index;

        /// <summary>Keeps the <c>top</c> smallest by (step time, enumeration index): a total order, so merging is order-free.</summary>
        private void Offer((double Score, long Index, ParallelPlan Layout, int? Offloaded) entry)
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

        private static (double Score, long Index, ParallelPlan Layout) Earlier((double Score, long Index, ParallelPlan Layout)? current, (double Score, long Index, ParallelPlan Layout) candidate) =>
            current is { } existing && Compare((existing.Score, existing.Index), (candidate.Score, candidate.Index)) <= 0 ? existing : candidate;

        private static int Compare((double Score, long Index, ParallelPlan Layout, int? Offloaded) left, (double Score, long Index, ParallelPlan Layout, int? Offloaded) right) => Compare((left.Score, left.Index), (right.Score, right.Index));

        private static int Compare((double Score, long Index) left, (double Score, long Index) right)
        {
            var byScore = left.Score.CompareTo(right.Score);
            return byScore != 0 ? byScore : left.Index.CompareTo(right.Index);
        }
    }
}
