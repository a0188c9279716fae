using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Units;

namespace ClusterTwin.Planning;

/// <summary>
/// Sizes a cluster for a training run: the fewest systems, or the cheapest run, that trains the job's tokens within a
/// deadline, each size at the fastest layout <see cref="PlanSearch"/> finds for it. The sizes are the
/// <see cref="ClusterSizes"/> ladder, walked up from the least the chips' peak rate allows; the walk stops at the first
/// size that meets the deadline, or (ranking by cost) <see cref="SizeSearchSettings.SizesPastDeadline"/> sizes after it.
/// </summary>
/// <remarks>
/// Each size is ranked by step time: the layout that meets a deadline soonest. At one size a step's cost is its time
/// times the chips' price, so the fastest layout is also the cheapest to rent (an owner's electricity can differ by a
/// fraction of a percent). The time to train is the run's expected wall time with its interruptions, restarts and
/// checkpoints where the scenario has resilience settings (<see cref="SizedCluster.Run"/>), else its steps alone.
/// </remarks>
public static class SizeSearch
{
    /// <summary>
    /// Sizes in a row that train no faster than the fastest before them by <see cref="Gain"/>, or have no layout for a
    /// reason other than memory, end the walk: past the size where the global batch runs out of data-parallel
    /// replicas, or the fabric's upper tiers bind, more chips only cost more.
    /// </summary>
    public const int StalledSizes = 3;

    /// <summary>
    /// The least gain over a smaller size that counts: 2% in time to train for the walk's progress, and in the run's cost
    /// for a larger size to be chosen over a smaller one.
    /// </summary>
    public const double Gain = 0.02;

    /// <summary>Sizes <paramref name="candidate"/> under <paramref name="settings"/>.</summary>
    /// <param name="candidate">The kind of cluster: the job on one system of it.</param>
    /// <param name="settings">The deadline, objective and limits.</param>
    /// <param name="threads">Threads per layout search; null for every core.</param>
    /// <param name="progress">Receives each size as its search starts (systems, chips).</param>
    public static SizeOutcome Run(SizeCandidate candidate, SizeSearchSettings settings, int? threads = null, IProgress<(int Systems, long Chips)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(settings);
        var template = candidate.Template;
        var (cluster, job) = (template.Cluster, template.Job);
        if (job.TokensToTrain is not { } tokens)
        {
            throw new ArgumentException("the job names no tokens to train on, so it has no time to train", nameof(candidate));
        }

        var perSystem = cluster.System.Chips.Value;
        var leastChips = LeastChipsAtPeak(candidate, settings.Deadline, tokens);
        var maximumSystems = MaximumSystems(candidate, settings.MaximumChips);
        if (maximumSystems == 0)
        {
            return new SizeOutcome(candidate, [], null, 0, leastChips, string.Create(CultureInfo.InvariantCulture,
                $"one {cluster.System.Name} has {perSystem:N0} chips, more than the {settings.MaximumChips:N0} allowed (search.max_chips)"));
        }

        var tried = ImmutableArray.CreateBuilder<SizedCluster>();
        var belowBound = 0;
        var pastDeadline = -1;
        var walk = new Walk();
        var stopped = false;
        foreach (var systems in ClusterSizes.LadderAndLargest(maximumSystems))
        {
            var chips = (long)systems * perSystem;
            if (chips < leastChips)
            {
                belowBound++;
                continue;
            }

            progress?.Report((systems, chips));
            var scenario = template with { Cluster = cluster with { SystemCount = systems } };
            var size = new SizedCluster(systems, chips, PlanSearch.Run(scenario, candidate.Pins, top: 1, memoryHeadroom: settings.MemoryHeadroom, threads: threads));
            tried.Add(size);
            if (pastDeadline >= 0 || size.Meets(settings.Deadline, settings.DeadlineAt))
            {
                pastDeadline++;
            }

            if (pastDeadline >= (settings.Objective == SizeObjective.Chips ? 0 : SizeSearchSettings.SizesPastDeadline) || walk.Stalls(size))
            {
                stopped = pastDeadline < 0;
                break;
            }
        }

        var sizes = tried.ToImmutable();
        var meeting = sizes.Where(size => size.Meets(settings.Deadline, settings.DeadlineAt)).ToArray();
        var priced = meeting.All(size => size.RunCost is not null);
        var chosen = meeting.Length == 0 ? null
            : settings.Objective == SizeObjective.Cost && priced ? Cheapest(meeting)
            : meeting[0];
        return new SizeOutcome(candidate, sizes, chosen, belowBound, leastChips, chosen is null ? WhyNone(candidate, settings, sizes, leastChips, maximumSystems, stopped) : null)
        {
            Unpriced = settings.Objective == SizeObjective.Cost && meeting.Length > 0 && !priced,
        };
    }

    /// <summary>Whether the walk has stopped making progress: <see cref="StalledSizes"/> sizes in a row that gained nothing.</summary>
    private sealed class Walk
    {
        private double fastest = double.PositiveInfinity;
        private int stalled;
        private bool memoryBound;

        /// <summary>Takes <paramref name="size"/> in; true where it is the last of <see cref="StalledSizes"/> in a row without progress.</summary>
        public bool Stalls(SizedCluster size)
        {
            if (size.TimeToTrain is { } time)
            {
                // Progress is a time to train 2% below the fastest so far.
                stalled = time.Seconds < fastest * (1 - Gain) ? 0 : stalled + 1;
                fastest = Math.Min(fastest, time.Seconds);
            }
            else if (size.Best is not null)
            {
                // A layout whose run never finishes (interrupted faster than it recovers): larger sizes are interrupted more often.
                stalled++;
            }
            else if (size.Search.PrunedMemory > 0)
            {
                // Too small to fit: larger sizes may, so this is no stall.
                memoryBound = true;
            }
            else if (double.IsFinite(fastest) || !memoryBound)
            {
                // No layout for another reason (no degree divides, a format the chip lacks). Before any size has fit,
                // that counts only where no size was short of memory either: between sizes too small to fit, a size
                // the pins cannot divide says nothing of the larger ones that can.
                stalled++;
            }

            return stalled >= StalledSizes;
        }
    }

    /// <summary>
    /// The cheapest of <paramref name="meeting"/> (smallest first): a larger size only where its run costs at least
    /// <see cref="Gain"/> less than the smaller one it would replace. A cost within 2% is within the noise of a layout's
    /// MFU from one size to the next, and the smaller cluster is the one easier to get.
    /// </summary>
    private static SizedCluster Cheapest(IEnumerable<SizedCluster> meeting) =>
        meeting.Aggregate((chosen, larger) => larger.RunCost!.Value.Dollars < chosen.RunCost!.Value.Dollars * (1 - Gain) ? larger : chosen);

    /// <summary>
    /// The outcomes ranked: those that meet the deadline first, by the objective (run cost, then chips; unpriced ones
    /// after the priced), then the rest in the order given.
    /// </summary>
    public static ImmutableArray<SizeOutcome> Rank(IEnumerable<SizeOutcome> outcomes, SizeObjective objective)
    {
        ArgumentNullException.ThrowIfNull(outcomes);
        var list = outcomes.ToArray();
        // OrderBy is stable: outcomes that tie keep the order given.
        var meeting = list.Where(outcome => outcome.Chosen is not null)
            .OrderBy(outcome => objective == SizeObjective.Cost ? outcome.Chosen!.RunCost?.Dollars ?? double.PositiveInfinity : outcome.Chosen!.Chips)
            .ThenBy(outcome => outcome.Chosen!.Chips);
        return [.. meeting, .. list.Where(outcome => outcome.Chosen is null)];
    }

    /// <summary>
    /// The chips that would train <paramref name="tokens"/> within <paramref name="deadline"/> at the chip's peak rate in
    /// the job's format, counting only the model's FLOPs with attention over its causal half (what a causal kernel
    /// runs): no cluster of fewer chips can meet the deadline. Zero where the chip has no rate in that format (the
    /// layout search then says so).
    /// </summary>
    public static double LeastChipsAtPeak(SizeCandidate candidate, Duration deadline, double tokens)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        var (template, job) = (candidate.Template, candidate.Template.Job);
        if (template.Cluster.Chip.PeakRate(job.Precision) is not { } peak || peak.OperationsPerSecond <= 0 || deadline <= Duration.Zero)
        {
            return 0;
        }

        var steps = Math.Ceiling(tokens / job.TokensPerStep);
        var atPeak = AnalyticalEngine.ModelFlops(template.Model, job, causalAttention: true) * steps / peak;
        return atPeak / deadline;
    }

    /// <summary>The most systems a cluster may have: the chips allowed and the fabric's reach, one where the system cannot be joined.</summary>
    private static int MaximumSystems(SizeCandidate candidate, long maximumChips)
    {
        var cluster = candidate.Template.Cluster;
        var perSystem = cluster.System.Chips.Value;
        if (perSystem > maximumChips)
        {
            return 0;
        }

        if (cluster.System.ScaleOutBandwidth is null)
        {
            return 1;
        }

        var reach = Math.Max(perSystem, Math.Min(maximumChips, cluster.Fabric.MaximumEndpoints));
        return (int)Math.Min(int.MaxValue, reach / perSystem);
    }

    private static string WhyNone(SizeCandidate candidate, SizeSearchSettings settings, ImmutableArray<SizedCluster> sizes, double leastChips, int maximumSystems, bool stalled)
    {
        var system = candidate.Template.Cluster.System;
        var largest = (long)maximumSystems * system.Chips.Value;
        if (sizes.IsEmpty)
        {
            return string.Create(CultureInfo.InvariantCulture,
                $"even at the chip's peak rate the run needs {Math.Ceiling(leastChips):N0} chips to finish in time, more than the {largest:N0} this search may use (search.max_chips{(system.ScaleOutBandwidth is null ? string.Empty : ", or the fabric's reach")})");
        }

        var last = sizes[^1];
        var laidOut = sizes.Where(size => size.Best is not null).ToArray();
        var slowEnd = settings.DeadlineAt == DeadlineBasis.SlowEnd;
        var timed = laidOut.Where(size => (slowEnd ? size.TimeToTrainHigh : size.TimeToTrain) is not null).ToArray();
        if (laidOut.Length > 0 && timed.Length == 0)
        {
            // The smallest size's run, at the end the deadline is held to, says why.
            var run = laidOut[0].Run!;
            var end = slowEnd ? run.Slowest ?? run : run;
            return string.Create(CultureInfo.InvariantCulture,
                $"no run of the sizes tried ({laidOut[0].Chips:N0} to {laidOut[^1].Chips:N0} chips) would finish{(slowEnd ? " at the band's slow end" : string.Empty)}: {laidOut[0].Chips:N0} chips are {end.WhyNever}; a scenario's resilience block changes the figures (docs/reliability.md)");
        }

        if (laidOut.Length == 0)
        {
            // Where every combination at every size failed to divide (none short of memory, none refused by the engine),
            // the system's own chip count may be what no layout divides; part of a switched or meshed system can help.
            var batch = candidate.Template.Job.GlobalBatchSize;
            var perSystem = system.Chips.Value;
            var structural = sizes.All(size => size.Search is { PrunedMemory: 0, PrunedOther: 0, Refusal: null });
            var hint = structural && system.Topology.Kind != Hardware.ScaleUpTopologyKind.Torus && batch % perSystem != 0 && perSystem % batch != 0
                ? string.Create(CultureInfo.InvariantCulture, $" (a {perSystem}-chip system does not divide a global batch of {batch:N0} sequences: part of each system, search.clusters[].chips_per_system, may)")
                : string.Empty;
            return string.Create(CultureInfo.InvariantCulture, $"no size tried, up to {last.Chips:N0} chips, has a layout that fits{hint}: {string.Join("; ", last.Search.WhyNoLayout())}");
        }

        // The fastest by the time the deadline is held to.
        var fastest = timed.MinBy(size => (slowEnd ? size.TimeToTrainHigh : size.TimeToTrain)!.Value.Seconds)!;
        var time = slowEnd ? $"{RunLength.Of(fastest.TimeToTrainHigh!.Value)} at the band's slow end" : RunLength.Of(fastest.TimeToTrain!.Value);
        var reach = stalled
            ? string.Create(CultureInfo.InvariantCulture, $"the search stopped at {last.Chips:N0} chips, the last of {StalledSizes} sizes that trained no faster ({(last.Best is null ? last.Search.WhyNoLayout()[0] : "the global batch or the fabric limits them")})")
            : string.Create(CultureInfo.InvariantCulture, $"no size tried, up to {last.Chips:N0} of the {largest:N0} chips allowed, meets the deadline");
        return string.Create(CultureInfo.InvariantCulture,
            $"{reach}: the fastest, {fastest.Chips:N0} chips, trains in {time} against {RunLength.Of(settings.Deadline)}");
    }
}
