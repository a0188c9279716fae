namespace ClusterTwin.Planning;

/// <summary>What a plan search minimises.</summary>
public enum PlanObjective
{
    /// <summary>The step time.</summary>
    Time,

    /// <summary>The IT energy of a step (the chips, hosts, switches and network, with the power supplies' losses).</summary>
    Energy,

    /// <summary>The cost of a step, at the scenario's prices.</summary>
    Cost,
}

/// <summary>What each objective needs of a scenario.</summary>
public static class PlanObjectives
{
    /// <summary>
    /// Why <paramref name="scenario"/> cannot be searched for <paramref name="objective"/>: its system's power figures
    /// are missing (energy; cost for an owner, who pays the electricity), or its prices are; null where it can.
    /// </summary>
    public static string? Missing(this PlanObjective objective, Scenarios.Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return objective switch
        {
            PlanObjective.Energy => Economics.EnergyModel.Missing(scenario.Cluster),
            PlanObjective.Cost => scenario.Cost?.Missing ?? (scenario.Cost?.Basis == Economics.CostBasis.Owner ? Economics.EnergyModel.Missing(scenario.Cluster) : null),
            _ => null,
        };
    }
}
