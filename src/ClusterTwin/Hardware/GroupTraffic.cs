namespace ClusterTwin.Hardware;

/// <summary>How a group's members exchange data, which sets the pairs of systems its traffic joins.</summary>
public enum GroupTraffic
{
    /// <summary>Each member with the next, the last with the first (a ring's reduce-scatter, all-gather and all-reduce).</summary>
    Ring,

    /// <summary>Every member with every other (an all-to-all).</summary>
    AllToAll,

    /// <summary>Each member with the next (a pipeline's stages).</summary>
    Neighbours,
}
