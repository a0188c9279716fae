namespace ClusterTwin.Workloads;

/// <summary>
/// How much of the chip a framework's data-parallel collectives hold while they run hidden behind computation. NCCL
/// runs each channel of a collective as one thread block on a streaming multiprocessor that compute kernels do not
/// share; it builds a ring through each member's network adapter (or NVLink peer) with two channels each, so a group
/// with <c>m</c> members in each system runs <c>min(PerMember m, Most)</c> channels, and the computation beside them
/// loses that share of <see cref="Multiprocessors"/>.
/// </summary>
/// <param name="PerMember">Channels per member of the group inside one system (NCCL: 2, one pair per rail adapter).</param>
/// <param name="Most">The most channels a collective runs (NCCL's logs on 8-GPU nodes: 16 to 32; the least taken).</param>
/// <param name="Multiprocessors">The chip's multiprocessors the channels are a share of.</param>
public sealed record CollectiveChannels(int PerMember, int Most, int Multiprocessors)
{
    /// <summary>The share of the chip, 0 to 1, a collective of a group with <paramref name="membersPerSystem"/> members in each system holds.</summary>
    public double ComputeShare(int membersPerSystem) =>
        Math.Min((double)PerMember * Math.Max(membersPerSystem, 1), Most) / Multiprocessors;
}
