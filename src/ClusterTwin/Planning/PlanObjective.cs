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
