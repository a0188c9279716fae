using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Sharing;

/// <summary>
/// Several training jobs on one cluster's scale-out network. Each job's step is the analytical engine's on the fabric
/// as the job sees it: its collectives cross the tiers between the systems it holds (<see cref="JobFootprint"/>: a
/// job dealt over many leaves crosses the spine where a packed one would not), and each tier's uplinks divide its rate by what the jobs
/// sending through them at once ask of them (<see cref="UplinkContention"/>). How often a job sends above a tier is its
/// step's scale-out bytes over its rate there, over its step (its duty); the duties set the others' contention and the
/// contention the steps, so the steps are found by a fixed point. Jobs' phases are taken as independent (their steps
/// drift apart); the aligned case, where every other job sends whenever one does, bounds it.
/// </summary>
public static class SharedFabric
{
    /// <summary>Rounds of the fixed point at most: the steps settle in a few dozen.</summary>
    public const int MaximumIterations = 200;

    private const double Settled = 1e-9;

    /// <summary>Simulates every job of <paramref name="shared"/> beside the others.</summary>
    public static SharedClusterResult Run(SharedCluster shared)
    {
        ArgumentNullException.ThrowIfNull(shared);
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

        var tiers = Math.Max(0, groups.Tiers - 1);
        var occupants = Occupants(footprints, tiers);
        var jobs = shared.Jobs;
        var alone = jobs.Select(job => AnalyticalEngine.Simulate(job.Scenario)).ToArray();
        var idle = new double[jobs.Length][];
        for (var index = 0; index < jobs.Length; index++)
        {
            idle[index] = new double[tiers];
        }

        // In place: each job where it is placed, the others idle.
        var inPlaceFactors = Factors(shared, groups, footprints, occupants, idle, aligned: false);
        var inPlace = jobs.Select((job, index) => Step(shared, job, footprints[index], inPlaceFactors[index])).ToArray();

        // Beside the others: from the steps in place, round by round until the steps settle.
        var steps = inPlace;
        var factors = inPlaceFactors;
        var duties = Duties(shared, steps, factors);
        var (iterations, converged) = (0, false);
        while (!converged && iterations < MaximumIterations)
        {
            iterations++;
            var target = Factors(shared, groups, footprints, occupants, duties, aligned: false);
            // Half a step towards the new factors from the second round: the duties and the factors pull against each
            // other (a slower job sends a smaller share of its step), and damping keeps them from swinging.
            factors = iterations == 1 ? target : Blend(factors, target);
            var next = jobs.Select((job, index) => Step(shared, job, footprints[index], factors[index])).ToArray();
            converged = next.Zip(steps).All(pair => !pair.First.Valid || Math.Abs((pair.First.StepTime / pair.Second.StepTime) - 1) < Settled);
            steps = next;
            duties = Duties(shared, steps, factors);
        }

        var alignedFactors = Factors(shared, groups, footprints, occupants, duties, aligned: true);
        var results = jobs.Select((job, index) => new SharedJobResult(
            job.Name,
            footprints[index],
            alone[index],
            inPlace[index],
            AnalyticalEngine.Simulate(ViewOf(shared, job, footprints[index], factors[index])),
            Step(shared, job, footprints[index], alignedFactors[index]),
            [.. duties[index]],
            [.. factors[index]])).ToImmutableArray();
        return new SharedClusterResult(shared, results, Loads(shared, groups, occupants, duties), iterations, converged);
    }

    /// <summary>The job's scenario on the fabric as it sees it: where its chips sit, and each tier's factor in place of the tier's oversubscription.</summary>
    public static Scenario ViewOf(SharedCluster shared, SharedJob job, JobFootprint footprint, IReadOnlyList<double> factors)
    {
        ArgumentNullException.ThrowIfNull(shared);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(footprint);
        ArgumentNullException.ThrowIfNull(factors);
        var fabric = shared.Cluster.Fabric;
        var tiers = fabric.Tiers.Select((tier, index) => index < factors.Count ? tier with { Oversubscription = factors[index] } : tier).ToImmutableArray();
        var view = fabric with { Tiers = tiers, Placement = footprint };
        return job.Scenario with { Cluster = job.Scenario.Cluster with { Fabric = view } };
    }

    private static TrainingStepResult Step(SharedCluster shared, SharedJob job, JobFootprint footprint, double[] factors) =>
        AnalyticalEngine.SimulateStep(ViewOf(shared, job, footprint, factors));

    private static double[][] Blend(double[][] current, double[][] target) =>
        current.Select((row, job) => row.Select((factor, tier) => (factor + target[job][tier]) / 2).ToArray()).ToArray();

    /// <summary>
    /// Each job's duty above each tier: the seconds per step its scale-out bytes above the tier take at its rate there
    /// (the adapter's, times the fabric's efficiency, over the largest factor below the tier they cross), over its step.
    /// </summary>
    private static double[][] Duties(SharedCluster shared, TrainingStepResult[] steps, double[][] factors)
    {
        var fabric = shared.Cluster.Fabric;
        var tiers = Math.Max(0, fabric.Tiers.Length - 1);
        var adapter = shared.Cluster.System.ScaleOutBandwidth?.Value;
        return steps.Select((step, job) =>
        {
            var duty = new double[tiers];
            if (!step.Valid || adapter is not { } rate || step.ScaleOutTrafficPerChip.IsDefaultOrEmpty)
            {
                return duty;
            }

            var bandwidth = rate * fabric.Efficiency.Value;
            var busy = Duration.Zero;
            // From the top down: traffic that crosses tier k uses the uplinks of every tier below it.
            for (var crossed = step.ScaleOutTrafficPerChip.Length - 1; crossed >= 1; crossed--)
            {
                var slowest = 1.0;
                for (var below = 0; below < crossed; below++)
                {
                    slowest = Math.Max(slowest, factors[job][below]);
                }

                busy += step.ScaleOutTrafficPerChip[crossed] / (bandwidth / slowest);
                if (crossed - 1 < tiers)
                {
                    duty[crossed - 1] = Math.Min(1, busy / step.StepTime);
                }
            }

            // A tier's duty counts the traffic above it: the loop filled it from the top, each tier's with what crosses above.
            return duty;
        }).ToArray();
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
    /// worst, the others sending at their duties (or, <paramref name="aligned"/>, whenever it does).
    /// </summary>
    private static double[][] Factors(SharedCluster shared, SwitchGroups groups, JobFootprint[] footprints, Dictionary<int, List<(int Job, int Systems)>>[] occupants, double[][] duties, bool aligned)
    {
        var tiers = occupants.Length;
        var factors = new double[footprints.Length][];
        var others = new List<(int Systems, double Duty)>();
        for (var job = 0; job < footprints.Length; job++)
        {
            factors[job] = new double[tiers];
            for (var tier = 0; tier < tiers; tier++)
            {
                var oversubscription = shared.Cluster.Fabric.Tiers[tier].Oversubscription;
                var capacity = groups.SystemsPerGroup[tier];
                var worst = 1.0;
                if (footprints[job].Spans(tier))
                {
                    foreach (var (group, own) in footprints[job].SystemsByGroup[tier])
                    {
                        others.Clear();
                        foreach (var (other, systems) in occupants[tier][group])
                        {
                            if (other != job && duties[other][tier] > 0)
                            {
                                others.Add((systems, aligned ? 1 : duties[other][tier]));
                            }
                        }

                        worst = Math.Max(worst, UplinkContention.Expected(oversubscription, capacity, own, others));
                    }
                }

                factors[job][tier] = worst;
            }
        }

        return factors;
    }

    private static ImmutableArray<TierLoad> Loads(SharedCluster shared, SwitchGroups groups, Dictionary<int, List<(int Job, int Systems)>>[] occupants, double[][] duties)
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
                    offered += systems * duties[job][tier];
                }

                busiest = Math.Max(busiest, offered);
            }

            loads.Add(new TierLoad(fabricTier.Name, fabricTier.Oversubscription, groups.SystemsPerGroup[tier], busiest * fabricTier.Oversubscription / groups.SystemsPerGroup[tier]));
        }

        return loads.MoveToImmutable();
    }
}
