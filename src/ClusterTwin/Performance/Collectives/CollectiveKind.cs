namespace ClusterTwin.Performance.Collectives;

/// <summary>A communication pattern among the members of a group.</summary>
public enum CollectiveKind
{
    /// <summary>Every member ends with the sum of all members' buffers.</summary>
    AllReduce,

    /// <summary>Every member ends with its shard of the sum.</summary>
    ReduceScatter,

    /// <summary>Every member ends with every member's shard.</summary>
    AllGather,

    /// <summary>One member sends its buffer to one other (pipeline activations and gradients).</summary>
    PointToPoint,

    /// <summary>Every member sends a different slice of its buffer to every other (mixture-of-experts token dispatch).</summary>
    AllToAll,
}
