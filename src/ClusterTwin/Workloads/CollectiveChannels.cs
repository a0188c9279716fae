using System.Collections.Immutable;

namespace ClusterTwin.Workloads;

/// <summary>
/// How much of the chip a framework's data-parallel collectives hold while they run hidden behind computation. NCCL
/// runs each channel of a collective as one thread block on a streaming multiprocessor that compute kernels do not
/// share. Across systems it builds a ring through each member's network adapter with two channels each, so a group
/// with <c>m</c> members in each system runs <c>min(PerMember m, Most)</c> channels; inside one system (NVLink) it
/// sizes the channels by the links' bandwidth, taken as <see cref="Most"/>. The computation beside them loses that
/// share of <see cref="Multiprocessors"/>.
/// </summary>
/// <param name="PerMember">Channels per member of a group crossing systems, for each member in a system (NCCL: 2, one pair per rail adapter).</param>
/// <param name="Most">The most channels a collective runs, and what one inside a system runs (NCCL's logs on 8-GPU nodes: 16 to 32; the least taken).</param>
/// <param name="Multiprocessors">The chip's multiprocessors the channels are a share of.</param>
/// <param name="Vendors">Chip vendors (as the chip files write them) whose collective library this describes; other chips' collectives take none.</param>
public sealed record CollectiveChannels(int PerMember, int Most, int Multiprocessors, ImmutableArray<string> Vendors)
{
    /// <summary>Whether this describes the collectives on a chip of <paramref name="vendor"/>.</summary>
    public bool AppliesTo(string vendor) => Vendors.Contains(vendor);

    /// <summary>
    /// The share of the chip, 0 to 1, a collective holds while it runs: of a group with <paramref name="membersPerSystem"/>
    /// members in each system, across systems where <paramref name="crossesSystems"/>.
    /// </summary>
    public double ComputeShare(int membersPerSystem, bool crossesSystems) =>
        (crossesSystems ? Math.Min((double)PerMember * Math.Max(membersPerSystem, 1), Most) : Most) / Multiprocessors;

    /// <summary>Value equality over the vendor list too (an immutable array compares by reference).</summary>
    public bool Equals(CollectiveChannels? other) =>
        other is not null && PerMember == other.PerMember && Most == other.Most && Multiprocessors == other.Multiprocessors && Vendors.SequenceEqual(other.Vendors);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(PerMember, Most, Multiprocessors, Vendors.Length);
}
