using ClusterTwin.Economics;
using ClusterTwin.Serving;

namespace ClusterTwin.Catalog;

/// <summary>A serving scenario: the deployment, the requests, the objectives and the prices.</summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Deployment">The model on its replicas; the decode pool when disaggregated.</param>
/// <param name="Workload">The requests.</param>
/// <param name="Objectives">The latency objectives goodput counts against.</param>
/// <param name="Cost">The prices of <paramref name="Deployment"/>'s chips.</param>
public sealed record ServingScenario(string Name, ServingDeployment Deployment, RequestWorkload Workload, ServingObjectives Objectives, CostSettings Cost)
{
    /// <summary>The prefill and decode pools, where the scenario disaggregates them; null when one pool does both.</summary>
    public DisaggregatedDeployment? Split { get; init; }

    /// <summary>The prices of the prefill pool's chips, where disaggregated.</summary>
    public CostSettings? PrefillCost { get; init; }

    /// <summary>Every pool's deployment: one, or the prefill and the decode pool.</summary>
    public IEnumerable<ServingDeployment> Pools => Split is { } split ? [split.Prefill, split.Decode] : [Deployment];

    /// <summary>Simulates the scenario, each pool's deployment first changed by <paramref name="adjust"/> where given.</summary>
    public ServingResult Run(Func<ServingDeployment, ServingDeployment>? adjust = null)
    {
        adjust ??= deployment => deployment;
        return Split is { } split
            ? ServingSimulator.Run(split with { Prefill = adjust(split.Prefill), Decode = adjust(split.Decode) }, Workload, Objectives, PrefillCost, Cost)
            : ServingSimulator.Run(adjust(Deployment), Workload, Objectives, Cost);
    }

    /// <summary>The highest arrival rate at which a share <paramref name="attainment"/> of the requests meet the objectives (<see cref="CapacitySearch"/>).</summary>
    public CapacityResult Capacity(double attainment) => CapacitySearch.Run(Workload, workload => (this with { Workload = workload }).Run(), attainment);
}

/// <summary>A deployment search: what to try, the settings every candidate shares, the requests and the objectives.</summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Settings">Systems, degrees, formats and batch limits to try, and the attainment to meet.</param>
/// <param name="Template">The settings every candidate shares.</param>
/// <param name="Workload">The requests.</param>
/// <param name="Objectives">The latency objectives.</param>
/// <param name="Cost">The cost basis (rental or owner), moved to each system's default prices.</param>
public sealed record ServingSearchScenario(string Name, DeploymentSearchSettings Settings, ServingDeployment Template, RequestWorkload Workload, ServingObjectives Objectives, CostSettings Cost)
{
    /// <summary>What the search asks and how to read it, for its report; null when the file gives none.</summary>
    public string? Description { get; init; }

    /// <summary>Runs the search on <paramref name="catalog"/>'s systems, prices and efficiency curves, best first.</summary>
    public System.Collections.Immutable.ImmutableArray<SearchOutcome> Run(HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return DeploymentSearch.Run(Settings, Template, Workload, Objectives, ScenarioLoader.ServingCluster,
            system => ScenarioCost.ForSystem(Cost, system, catalog.Prices), catalog.EfficiencyFor);
    }
}
