using System.Collections.Immutable;
using System.Runtime.InteropServices;
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
/// <param name="Gradients">The gradient reduction (and weight gathering), spread over the micro-batches.</param>
internal readonly record struct LinkTrafficParts(Bytes Tensor, Bytes Context, Bytes Expert, Bytes Pipeline, Bytes Gradients)
{
    /// <summary>Every dimension's bytes.</summary>
    public Bytes Total => Tensor + Context + Expert + Pipeline + Gradients;

    /// <summary>
    /// Of these bytes over <paramref name="microBatches"/> micro-batches, those that leave the chip's system, by the
    /// highest scale-out tier they cross (index 0: the leaf); empty where none leaves. A group of <c>n</c> members, <c>L</c> of them in each of <c>R</c> systems, runs
    /// hierarchically (<see cref="CollectiveCost"/>): a ring sends <c>(R-1)/(n-1)</c> of its volume across systems (its
    /// shard of <c>1/L</c> over <c>R</c> systems), an all-to-all <c>L(R-1)/(n-1)</c> (the slices for other systems).
    /// A group that straddles systems unevenly runs flat over the network, and a pipeline send that crosses goes whole.
    /// </summary>
    public ImmutableArray<Bytes> ScaleOut(int tiers, double microBatches, CommunicationGroup tensor, CommunicationGroup context, CommunicationGroup expert, CommunicationGroup pipeline, CommunicationGroup gradients)
    {
        if (tiers == 0 || !(tensor.CrossesFabric || context.CrossesFabric || expert.CrossesFabric || pipeline.CrossesFabric || gradients.CrossesFabric))
        {
            return [];
        }

        var perTier = new Bytes[tiers];
        Add(perTier, tensor, Tensor * microBatches, RingShare(tensor));
        Add(perTier, context, Context * microBatches, RingShare(context));
        Add(perTier, expert, Expert * microBatches, AllToAllShare(expert));
        Add(perTier, pipeline, Pipeline * microBatches, 1);
        Add(perTier, gradients, Gradients * microBatches, RingShare(gradients));
        // The array is new and not kept: taken as it is, not copied.
        return ImmutableCollectionsMarshal.AsImmutableArray(perTier);
    }

    private static void Add(Bytes[] perTier, CommunicationGroup group, Bytes bytes, double share)
    {
        if (group.CrossesFabric && bytes.Count > 0)
        {
            var tier = Math.Clamp(group.FabricTier, 0, perTier.Length - 1);
            perTier[tier] += bytes * share;
        }
    }

    private static double RingShare(CommunicationGroup group) =>
        !group.Aligned || group.MembersPerSystem <= 1 ? 1 : (group.SystemsSpanned - 1) / (double)(group.Size - 1);

    private static double AllToAllShare(CommunicationGroup group) =>
        !group.Aligned || group.MembersPerSystem <= 1 ? 1 : group.MembersPerSystem * (group.SystemsSpanned - 1) / (double)(group.Size - 1);
}
