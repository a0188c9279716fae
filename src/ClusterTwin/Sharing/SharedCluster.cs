using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Sharing;

/// <summary>How a shared cluster's systems are dealt to its jobs.</summary>
public enum PlacementPolicy
{
    /// <summary>Each job on consecutive systems, in the order the jobs are listed: the fewest switch groups per job.</summary>
    Packed,

    /// <summary>Each job's systems dealt round the leaves in turn: every job in every leaf, as a scheduler that ignores the network leaves them.</summary>
    Spread,

    /// <summary>Systems dealt in a seeded random order: a fragmented cluster after jobs have come and gone.</summary>
    Random,
}

/// <summary>One training job on a shared cluster.</summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Scenario">The job as <c>simulate</c> runs it on a cluster of its own systems (the shared cluster's system, its fabric).</param>
public sealed record SharedJob(string Name, Scenario Scenario)
{
    /// <summary>The systems the job holds.</summary>
    public int Systems => Scenario.Cluster.SystemCount;
}

/// <summary>
/// Several training jobs on one cluster, whose scale-out network they share: each job holds whole systems, placed by
/// <see cref="Placement"/>, and its traffic meets the others' in the switch groups' uplinks.
/// </summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Cluster">The whole cluster: its system, how many, and the fabric (the scenario's oversubscription already applied).</param>
/// <param name="Placement">How the systems are dealt.</param>
/// <param name="Seed">The random placement's seed.</param>
/// <param name="Jobs">The jobs, at least one; together they hold at most the cluster's systems.</param>
public sealed record SharedCluster(string Name, Cluster Cluster, PlacementPolicy Placement, int Seed, ImmutableArray<SharedJob> Jobs);
