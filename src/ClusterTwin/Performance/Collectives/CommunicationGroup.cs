namespace ClusterTwin.Performance.Collectives;

/// <summary>
/// Where the members of one communication group sit on the cluster. All groups of one parallel dimension are
/// alike (the cluster is symmetric), so one descriptor stands for all of them: this is what keeps a
/// million-chip step as cheap to cost as an eight-chip one.
/// </summary>
/// <param name="Size">Members.</param>
/// <param name="Stride">Distance between consecutive members in rank order.</param>
/// <param name="MembersPerSystem">Members that share one scale-up domain.</param>
/// <param name="SystemsSpanned">Scale-up domains the group touches.</param>
/// <param name="FabricTier">Highest scale-out tier its traffic crosses; -1 when it stays inside one system.</param>
/// <param name="Aligned">Whether every group of the dimension sits alike; when not, this describes the worst one.</param>
public readonly record struct CommunicationGroup(int Size, long Stride, int MembersPerSystem, int SystemsSpanned, int FabricTier, bool Aligned)
{
    /// <summary>Whether the group spans more than one system.</summary>
    public bool CrossesFabric => SystemsSpanned > 1;
}
