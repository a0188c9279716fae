using ClusterTwin.Performance.Collectives;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// The placed groups whose collectives send <see cref="LinkTrafficParts"/>' bytes, one per part; the pipeline's as its
/// hardest pair of neighbours, with its stages and their stride in rank order besides, and the chips per system.
/// </summary>
internal readonly record struct LinkTrafficGroups(CommunicationGroup Tensor, CommunicationGroup Context, CommunicationGroup Expert, CommunicationGroup Pipeline,
    CommunicationGroup Data, CommunicationGroup Replica, CommunicationGroup ExpertData, CommunicationGroup ExpertReplica, int PipelineStages, long PipelineStride, long ChipsPerSystem)
{
    /// <summary>Whether any of them leaves its system.</summary>
    public bool AnyCrossesFabric => Tensor.CrossesFabric || Context.CrossesFabric || Expert.CrossesFabric || Pipeline.CrossesFabric || Data.CrossesFabric || Replica.CrossesFabric || ExpertData.CrossesFabric || ExpertReplica.CrossesFabric;
}
