using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using ClusterTwin.Workloads;

namespace ClusterTwin.Claims;

/// <summary>One workload's best layout on one system, at the comparison's chip count.</summary>
/// <param name="System">The system.</param>
/// <param name="Plan">The best layout; null where none divides and fits.</param>
/// <param name="Result">The best layout's step, with its band, energy and cost.</param>
/// <param name="Framework">The training framework it runs on.</param>
public sealed record SystemRun(AcceleratorSystem System, ParallelPlan? Plan, TrainingStepResult Result, TrainingFramework Framework);

/// <summary>One workload run on each system at equal chip count, each with the best layout the plan search finds.</summary>
/// <param name="Workload">The workload's name.</param>
/// <param name="Chips">Chips in every cluster.</param>
/// <param name="Runs">One run per system, in the order given.</param>
/// <param name="Precision">The matrix multiplies' precision.</param>
public sealed record WorkloadComparison(string Workload, long Chips, ImmutableArray<SystemRun> Runs, Precision Precision)
{
    /// <summary>The run on <paramref name="system"/>; the claims file guarantees the subject and baseline are among the systems.</summary>
    public SystemRun RunOn(AcceleratorSystem system)
    {
        ArgumentNullException.ThrowIfNull(system);
        return Runs.First(run => run.System.Id == system.Id);
    }

    /// <summary>
    /// Runs <paramref name="planning"/>'s model and job on <paramref name="systems"/>, each with as many systems as
    /// make <paramref name="chips"/> chips and the scenario's fabric, its plan searched under the scenario's pins, on the
    /// framework the scenario named or else the system's vendor default (without the expert-communication overlap where
    /// that framework does not do it).
    /// </summary>
    public static WorkloadComparison Run(PlanningScenario planning, IEnumerable<AcceleratorSystem> systems, long chips, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(planning);
        ArgumentNullException.ThrowIfNull(systems);
        ArgumentNullException.ThrowIfNull(catalog);
        var runs = ImmutableArray.CreateBuilder<SystemRun>();
        foreach (var system in systems)
        {
            if (chips % system.Chips.Value != 0)
            {
                throw new InputException(system.Id, $"{chips} chips is not a whole number of {system.Chips.Value}-chip systems");
            }

            var cluster = new Cluster(system, (int)(chips / system.Chips.Value), planning.Scenario.Cluster.Fabric);
            var framework = planning.Scenario.FrameworkNamed ? planning.Scenario.Framework : catalog.TrainingFrameworkFor(system.Chip);
            var scenario = planning.Scenario with
            {
                Cluster = cluster,
                Efficiency = catalog.EfficiencyFor(system.Chip),
                Framework = framework,
                Cost = ScenarioCost.ForSystem(planning.Scenario.Cost ?? new Economics.CostSettings(), system, catalog.Prices),
            };

            // A system whose own framework does not overlap expert communication runs without the overlap.
            var pins = framework.ExpertOverlap is null && planning.Pins.Settings.OverlapExpertCommunication
                ? planning.Pins with { Settings = planning.Pins.Settings with { OverlapExpertCommunication = false } }
                : planning.Pins;
            var search = PlanSearch.Run(scenario, pins, top: 1);
            runs.Add(search.Plans.IsEmpty
                ? new SystemRun(system, null, new TrainingStepResult { Scenario = scenario.Name, Valid = false, Problems = search.WhyNoLayout(), Chips = chips }, framework)
                : new SystemRun(system, search.Plans[0].Plan, search.Plans[0].Result, framework));
        }

        return new WorkloadComparison(planning.Scenario.Name, chips, runs.ToImmutable(), planning.Scenario.Job.Precision);
    }
}
