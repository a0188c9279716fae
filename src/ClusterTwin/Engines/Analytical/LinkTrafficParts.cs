using System.Collections.Immutable;
using System.Runtime.InteropServices;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// Bytes one chip sends on its links per micro-batch, by the parallel dimension whose collectives send them (their
/// algorithmic volumes: <c>2(n-1)/n</c> of an all-reduce's buffer, <c>(n-1)/n</c> of an all-gather's,
/// reduce-scatter's or all-to-all's).
/// </summary>
/// <param name="Tensor">Tensor-parallel collectives of every pass, and the backward pass's re-gathers.</param>
/// <param name="Context">The context-parallel exchange.</param>
/// <param name="Expert">Expert dispatch and combine.</param>
/// <param name="Pipeline">Sends between pipeline stages.</param>
/// <param name="DataGradients">The shared parameters' gradient reduction and weight gathering in their sharding group, spread over the micro-batches.</param>
/// <param name="ReplicaGradients">Under hybrid sharding, the gradient shards' reduction across the replica groups, spread likewise.</param>
/// <param name="ExpertGradients">The routed experts' gradient reduction and weight gathering in their own sharding group, spread likewise.</param>
/// <param name="ExpertReplicaGradients">Under hybrid sharding, the routed experts' gradient shards' reduction across their replica groups, spread likewise.</param>
internal readonly record struct LinkTrafficParts(Bytes Tensor, Bytes Context, Bytes Expert, Bytes Pipeline, Bytes DataGradients, Bytes ReplicaGradients, Bytes ExpertGradients, Bytes ExpertReplicaGradients)
{
    /// <summary>Every dimension's bytes.</summary>
    public Bytes Total => Tensor + Context + Expert + Pipeline + DataGradients + ReplicaGradients + ExpertGradients + ExpertReplicaGradients;

    /// <summary>
    /// Of these bytes over <paramref name="microBatches"/> micro-batches, those that leave the chip's system, by the
    /// highest scale-out tier they cross (index 0: the leaf); empty where none leaves. A group of <c>n</c> members, <c>L</c>
    /// of them in each of <c>R</c> systems, runs hierarchically (<see cref="CollectiveCost"/>): a ring sends
    /// <c>(R-1)/(n-1)</c> of its volume across systems (its shard of <c>1/L</c> over <c>R</c> systems), an all-to-all
    /// <c>L(R-1)/(n-1)</c> (the slices for other systems). A group that straddles systems unevenly runs flat over the
    /// network, and a pipeline send that crosses goes whole. Each dimension's bytes cross the highest tier its groups
    /// cross; or, on a shared fabric (<paramref name="placement"/>), the tiers its pairs of systems meet under, in their
    /// shares (<see cref="IFabricPlacement.TrafficShares"/>): a collective waits for its slowest pair, but only the pairs
    /// that climb load the upper tiers.
    /// </summary>
    public ImmutableArray<Bytes> ScaleOut(int tiers, double microBatches, in LinkTrafficGroups groups, IFabricPlacement? placement = null)
    {
        if (tiers == 0 || !groups.AnyCrossesFabric)
        {
            return [];
        }

        var perTier = new Bytes[tiers];
        Add(perTier, groups.Tensor, Tensor * microBatches, RingShare(groups.Tensor), placement, GroupTraffic.Ring);
        Add(perTier, groups.Context, Context * microBatches, RingShare(groups.Context), placement, GroupTraffic.Ring);
        Add(perTier, groups.Expert, Expert * microBatches, AllToAllShare(groups.Expert), placement, GroupTraffic.AllToAll);
        Add(perTier, groups.Pipeline with { Size = groups.PipelineStages, Stride = groups.PipelineStride }, Pipeline * microBatches, placement is null ? CrossingNeighbours(groups) : 1, placement, GroupTraffic.Neighbours);
        Add(perTier, groups.Data, DataGradients * microBatches, RingShare(groups.Data), placement, GroupTraffic.Ring);
        Add(perTier, groups.Replica, ReplicaGradients * microBatches, RingShare(groups.Replica), placement, GroupTraffic.Ring);
        Add(perTier, groups.ExpertData, ExpertGradients * microBatches, RingShare(groups.ExpertData), placement, GroupTraffic.Ring);
        Add(perTier, groups.ExpertReplica, ExpertReplicaGradients * microBatches, RingShare(groups.ExpertReplica), placement, GroupTraffic.Ring);

        // The array is new and not kept: taken as it is, not copied.
        return ImmutableCollectionsMarshal.AsImmutableArray(perTier);
    }

    private static void Add(Bytes[] perTier, CommunicationGroup group, Bytes bytes, double share, IFabricPlacement? placement, GroupTraffic traffic)
    {
        if (!group.CrossesFabric || bytes.Count <= 0)
        {
            return;
        }

        if (placement is null)
        {
            perTier[Math.Clamp(group.FabricTier, 0, perTier.Length - 1)] += bytes * share;
            return;
        }

        var shares = placement.TrafficShares(group.Size, group.Stride, traffic);
        for (var tier = 0; tier < Math.Min(shares.Length, perTier.Length); tier++)
        {
            perTier[tier] += bytes * (share * shares[tier]);
        }
    }

    /// <summary>
    /// The share of a pipeline's sends that leave their system, its stages on consecutive ranks a stride apart from a
    /// system's start: where two stages share a system their sends stay in it. On a shared fabric the placement's
    /// shares count it (they are of every neighbouring pair), so the share here is 1.
    /// </summary>
    private static double CrossingNeighbours(in LinkTrafficGroups groups)
    {
        if (groups.PipelineStages <= 1 || groups.PipelineStride >= groups.ChipsPerSystem)
        {
            return 1;
        }

        var crossing = 0;
        for (var stage = 1; stage < groups.PipelineStages; stage++)
        {
            crossing += ((stage - 1) * groups.PipelineStride / groups.ChipsPerSystem) != (stage * groups.PipelineStride / groups.ChipsPerSystem) ? 1 : 0;
        }

        return crossing / (double)(groups.PipelineStages - 1);
    }

    private static double RingShare(CommunicationGroup group) =>
        !group.Aligned || group.MembersPerSystem <= 1 ? 1 : (group.SystemsSpanned - 1) / (double)(group.Size - 1);

    private static double AllToAllShare(CommunicationGroup group) =>
        !group.Aligned || group.MembersPerSystem <= 1 ? 1 : group.MembersPerSystem * (group.SystemsSpanned - 1) / (double)(group.Size - 1);
}
