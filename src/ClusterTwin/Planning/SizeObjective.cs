namespace ClusterTwin.Planning;

/// <summary>What a size search ranks the clusters that meet the deadline by.</summary>
public enum SizeObjective
{
    /// <summary>The cost of the whole run at each system's price (a cluster the catalogue cannot price ranks by its chips).</summary>
    Cost,

    /// <summary>The fewest chips.</summary>
    Chips,
}
