using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Sharing;

/// <summary>
/// Several training jobs on one cluster's scale-out network. Each job's step is the analytical engine's on the fabric
/// as the job sees it: its collectives cross the tiers between the systems it holds (<see cref="JobFootprint"/>: a
/// job dealt over many leaves crosses the spine where a packed one would not), and each tier's uplinks divide its rate
/// by what the jobs sending through them at once ask of them (<see cref="UplinkContention"/>). How often a job sends
/// above a tier is its step's scale-out bytes over its rate there, over its step (its duty); the duties set the others'
/// contention and the contention the steps, so the steps are found by a fixed point. Jobs' phases are taken as
/// independent (their steps drift apart); the aligned case, where every other job sends whenever one does, bounds it.
/// </summary>
public static class SharedFabric
{
    /// <summary>Rounds of the fixed point at most: the steps settle in a few dozen.</summary>
    public const int MaximumIterations = 200;

    private const double Settled = 1e-9;

    /// <summary>Simulates every job of <paramref name="shared"/> beside the others.</summary>
    /// <exception cref="ArgumentException">A job runs on another system than the cluster's, or the jobs hold more systems than it has.</exception>
    public static SharedClusterResult Run(SharedCluster shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
        CheckJobs(shared);
        var groups = new SwitchGroups(shared.Cluster);
        var order = groups.DealingOrder(shared.Placement, shared.Seed);
        var footprints = new JobFootprint[shared.Jobs.Length];
        var taken = 0;
        for (var index = 0; index < footprints.Length; index++)
        {
            var systems = shared.Jobs[index].Systems;
            footprints[index] = JobFootprint.Of(order.Slice(taken, systems), groups);
            taken += systems;
        }

        var occupants = Occupants(footprints, groups.TiersBelowTop);
        var jobs = shared.Jobs;
        var alone = jobs.Select(job => AnalyticalEngine.Simulate(job.Scenario)).ToArray();
        var idle = jobs.Select(_ => new double[groups.TiersBelowTop]).ToArray();

        // In place: each job where it is placed, the others idle.
        var inPlaceFactors = Factors(shared, groups, footprints, occupants, idle, aligned: false);
        var inPlace = jobs.Select((job, index) => Step(shared, job, footprints[index], inPlaceFactors[index])).ToArray();

        // Beside the others: from the steps in place, round by round until the factors (and so the steps) settle.
        var factors = inPlaceFactors;
        var steps = inPlace;
        var duties = Duties(shared, groups.TiersBelowTop, steps, factors, atFullRate: false);
        var (iterations, converged) = (0, false);
        while (!converged && iterations < MaximumIterations)
        {
            iterations++;
            var target = Factors(shared, groups, footprints, occupants, duties, aligned: false);
            // Half a step towards the new factors from the second round: the duties and the factors pull against each
            // other (a slower job sends a smaller share of its step), and damping keeps them from swinging.
            var next = iterations == 1 ? target : Blend(factors, target);
            converged = Unchanged(factors, next);
            factors = next;
            steps = [.. jobs.Select((job, index) => Step(shared, job, footprints[index], factors[index]))];
            duties = Duties(shared, groups.TiersBelowTop, steps, factors, atFullRate: false);
        }

        var alignedFactors = Factors(shared, groups, footprints, occupants, duties, aligned: true);
        var results = jobs.Select((job, index) => new SharedJobResult(
            job.Name,
            footprints[index],
            alone[index],
            inPlace[index],
            // The last round's step, at the final factors, with its band.
            AnalyticalEngine.WithBand(ViewOf(shared, job, footprints[index], factors[index]), steps[index]),
            Step(shared, job, footprints[index], alignedFactors[index]),
            [.. duties[index]],
            [.. factors[index]])).ToImmutableArray();
        return new SharedClusterResult(shared, results, Loads(shared, groups, occupants, Duties(shared, groups.TiersBelowTop, steps, factors, atFullRate: true)), iterations, converged);
    }

    /// <summary>The job's scenario on the fabric as it sees it: where its systems sit, and each tier's factor in place of the tier's oversubscription.</summary>
    public static Scenario ViewOf(SharedCluster shared, SharedJob job, JobFootprint footprint, IReadOnlyList<double> factors)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(footprint);
        ArgumentNullException.ThrowIfNull(factors);
        var fabric = shared.Cluster.Fabric;
        var tiers = fabric.Tiers.Select((tier, index) => index < factors.Count ? tier with { Oversubscription = factors[index] } : tier).ToImmutableArray();
        return job.Scenario with { Cluster = job.Scenario.Cluster with { Fabric = fabric with { Tiers = tiers }, Placement = footprint } };
    }

    // The jobs as a placement can take them: on the cluster's system, within its systems.
    private static void CheckJobs(SharedCluster shared)
    {
        if (shared.Jobs.FirstOrDefault(job => job.Scenario.Cluster.System != shared.Cluster.System) is { } other)
        {
            throw new ArgumentException($"job '{other.Name}' runs on {other.Scenario.Cluster.System.Id}, the cluster on {shared.Cluster.System.Id}", nameof(shared));
        }

        var held = shared.Jobs.Sum(job => (long)job.Systems);
        if (held > shared.Cluster.SystemCount)
        {
            throw new ArgumentException($"the jobs hold {held} systems, the cluster has {shared.Cluster.SystemCount}", nameof(shared));
        }
    }

    private static TrainingStepResult Step(SharedCluster shared, SharedJob job, JobFootprint footprint, double[] factors) =>
        AnalyticalEngine.SimulateStep(ViewOf(shared, job, footprint, factors));

    private static double[][] Blend(double[][] current, double[][] target) =>
        [.. current.Select((row, job) => row.Select((factor, tier) => (factor + target[job][tier]) / 2).ToArray())];

    private static bool Unchanged(double[][] before, double[][] after) =>
        before.Zip(after).All(pair => pair.First.Zip(pair.Second).All(factor => Math.Abs((factor.Second / factor.First) - 1) < Settled));

    /// <summary>
    /// Each job's duty above each tier: the seconds per step its scale-out bytes above the tier take at its rate there,
    /// over its step. The rate is the adapter's times the fabric's efficiency, over the largest factor below the tier
    /// the bytes cross, or, <paramref name="atFullRate"/>, over none: the traffic it offers, not the time it takes.
    /// </summary>
    private static double[][] Duties(SharedCluster shared, int tiers, TrainingStepResult[] steps, double[][] factors, bool atFullRate)
    {
        var fabric = shared.Cluster.Fabric;
        var adapter = shared.Cluster.System.ScaleOutBandwidth?.Value;
        return [.. steps.Select((step, job) =>
        {
            var duty = new double[tiers];
            if (!step.Valid || adapter is not { } rate || step.ScaleOutTrafficPerChip.IsDefaultOrEmpty)
            {
                return duty;
            }

            var bandwidth = rate * fabric.Efficiency.Value;
            var busy = Duration.Zero;
            // From the top down: traffic that crosses tier k uses the uplinks of every tier below it, so a tier's duty
            // counts the traffic crossing any tier above it.
            for (var crossed = step.ScaleOutTrafficPerChip.Length - 1; crossed >= 1; crossed--)
            {
                var slowest = 1.0;
                for (var below = 0; below < crossed && !atFullRate; below++)
                {
                    slowest = Math.Max(slowest, factors[job][below]);
                }

                busy += step.ScaleOutTrafficPerChip[crossed] / (bandwidth / slowest);
                duty[crossed - 1] = Math.Min(1, busy / step.StepTime);
            }

            return duty;
        })];
    }

    /// <summary>
    /// For each tier below the top, each switch group's jobs whose traffic leaves it (they have systems elsewhere):
    /// each as the job's index and its systems there, in the jobs' order.
    /// </summary>
    private static Dictionary<int, List<(int Job, int Systems)>>[] Occupants(JobFootprint[] footprints, int tiers)
    {
        var occupants = new Dictionary<int, List<(int Job, int Systems)>>[tiers];
        for (var tier = 0; tier < tiers; tier++)
        {
            occupants[tier] = [];
            for (var job = 0; job < footprints.Length; job++)
            {
                if (!footprints[job].Spans(tier))
                {
                    continue;
                }

                foreach (var (group, systems) in footprints[job].SystemsByGroup[tier])
                {
                    if (!occupants[tier].TryGetValue(group, out var list))
                    {
                        occupants[tier][group] = list = [];
                    }

                    list.Add((job, systems));
                }
            }
        }

        return occupants;
    }

    /// <summary>
    /// Each job's factor at each tier below the top: over the groups it leaves through (it has systems elsewhere), the
    /// worst, the others sending at their duties (or, <paramref name="aligned"/>, whenever it does). Where the uplinks
    /// carry every chip under the group at once (non-blocking, or too few systems sending), the factor is 1 unworked. A
    /// group's distribution of systems sending at once is worked once, each job's own sending taken out of it
    /// (<see cref="UplinkContention.Without"/>), so a group of many jobs costs them once, not once each.
    /// </summary>
    private static double[][] Factors(SharedCluster shared, SwitchGroups groups, JobFootprint[] footprints, Dictionary<int, List<(int Job, int Systems)>>[] occupants, double[][] duties, bool aligned)
    {
        var tiers = occupants.Length;
        var factors = new double[footprints.Length][];
        for (var job = 0; job < footprints.Length; job++)
        {
            factors[job] = new double[tiers];
            Array.Fill(factors[job], 1.0);
        }

        for (var tier = 0; tier < tiers; tier++)
        {
            var oversubscription = shared.Cluster.Fabric.Tiers[tier].Oversubscription;
            var capacity = groups.SystemsPerGroup[tier];
            foreach (var jobs in occupants[tier].Values)
            {
                var (sendingAll, expectedAll, squaresAll) = (0, 0.0, 0.0);
                foreach (var (job, systems) in jobs)
                {
                    var duty = duties[job][tier];
                    (sendingAll, expectedAll, squaresAll) = duty > 0 ? (sendingAll + systems, expectedAll + (systems * duty), squaresAll + ((double)systems * systems)) : (sendingAll, expectedAll, squaresAll);
                }

                double[]? all = null;
                foreach (var (job, own) in jobs)
                {
                    var duty = duties[job][tier];
                    var (othersSending, othersExpected, othersSquares) = duty > 0
                        ? (sendingAll - own, expectedAll - (own * duty), squaresAll - ((double)own * own))
                        : (sendingAll, expectedAll, squaresAll);
                    if (oversubscription * (own + othersSending) <= capacity)
                    {
                        continue;
                    }

                    double factor;
                    if (aligned)
                    {
                        factor = UplinkContention.Factor(oversubscription, capacity, own, othersSending);
                    }
                    else
                    {
                        var threshold = UplinkContention.Threshold(oversubscription, capacity, own);
                        double[] others = [];
                        if (!UplinkContention.Saturates(threshold, othersExpected, othersSquares))
                        {
                            all ??= UplinkContention.Distribution(jobs.Select(member => (member.Systems, duties[member.Job][tier])), UplinkContention.Threshold(oversubscription, capacity, 0));
                            others = UplinkContention.Without(all, own, duty)
                                ?? UplinkContention.Distribution(jobs.Where(member => member.Job != job).Select(member => (member.Systems, duties[member.Job][tier])), threshold);
                        }

                        factor = UplinkContention.FromDistribution(oversubscription, capacity, own, othersExpected, others);
                    }

                    factors[job][tier] = Math.Max(factors[job][tier], factor);
                }
            }
        }

        return factors;
    }

    /// <summary>Each tier's busiest group: the traffic its jobs offer at full rate over what its uplinks carry.</summary>
    private static ImmutableArray<TierLoad> Loads(SharedCluster shared, SwitchGroups groups, Dictionary<int, List<(int Job, int Systems)>>[] occupants, double[][] fullRateDuties)
    {
        var loads = ImmutableArray.CreateBuilder<TierLoad>(occupants.Length);
        for (var tier = 0; tier < occupants.Length; tier++)
        {
            var fabricTier = shared.Cluster.Fabric.Tiers[tier];
            var busiest = 0.0;
            foreach (var jobs in occupants[tier].Values)
            {
                var offered = 0.0;
                foreach (var (job, systems) in jobs)
                {
                    offered += systems * fullRateDuties[job][tier];
                }

                busiest = Math.Max(busiest, offered);
            }

            loads.Add(new TierLoad(fabricTier.Name, fabricTier.Oversubscription, groups.SystemsPerGroup[tier], busiest * fabricTier.Oversubscription / groups.SystemsPerGroup[tier]));
        }

        return loads.MoveToImmutable();
    }
}
