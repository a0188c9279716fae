using ClusterTwin.Parallelism;

namespace ClusterTwin.Planning;

/// <summary>
/// What the user fixed of a plan before the search: each searched dimension is either pinned to a value or left
/// free (null). The settings the search does not explore (rank order, overlaps, expert dispatch, and explicit stage
/// layers where the pipeline depth is pinned) are taken as given.
/// </summary>
public sealed record PlanPins
{
    /// <summary>Tensor-parallel degree, or null to search it.</summary>
    public int? TensorParallelism { get; init; }

    /// <summary>Context-parallel degree, or null to search it.</summary>
    public int? ContextParallelism { get; init; }

    /// <summary>How the context-parallel ranks exchange keys and values, or null to search it (where context parallelism is above 1).</summary>
    public ContextCommunication? ContextCommunication { get; init; }

    /// <summary>Expert-parallel degree, or null to search it (mixture-of-experts models only).</summary>
    public int? ExpertParallelism { get; init; }

    /// <summary>Pipeline-parallel degree, or null to search it.</summary>
    public int? PipelineParallelism { get; init; }

    /// <summary>Virtual stages per pipeline rank (interleaving), or null to search it.</summary>
    public int? VirtualStages { get; init; }

    /// <summary>Data-parallel degree, or null to derive it from the others.</summary>
    public int? DataParallelism { get; init; }

    /// <summary>Micro-batch size in sequences, or null to search it.</summary>
    public int? MicroBatchSize { get; init; }

    /// <summary>Sequence parallelism, or null to search it (only where tensor parallelism is above 1).</summary>
    public bool? SequenceParallelism { get; init; }

    /// <summary>Activation recompute policy, or null to search it.</summary>
    public RecomputePolicy? Recompute { get; init; }

    /// <summary>ZeRO stage (3 is FSDP), or null to search it.</summary>
    public int? ZeroStage { get; init; }

    /// <summary>
    /// Layers whose activations go to the host (<see cref="ParallelPlan.OffloadedLayers"/>), or null: none, unless
    /// <see cref="SearchesOffloading"/> lets the search offload.
    /// </summary>
    public int? OffloadedLayers { get; init; }

    /// <summary>
    /// Whether the search, where <see cref="OffloadedLayers"/> is free, may offload the fewest layers that make a layout
    /// over memory fit, where the framework and the system can (<see cref="PlanSearch"/>; <c>plan --offload</c>). Off by
    /// default: offloading's cost is validated on NVLink-C2C hosts only.
    /// </summary>
    public bool SearchesOffloading { get; init; }

    /// <summary>
    /// Whether the plan block names the pipeline schedule (the search then keeps it, as it keeps the settings it does not
    /// explore); <see cref="SearchesSchedules"/> and a named schedule do not go together.
    /// </summary>
    public bool NamesSchedule { get; init; }

    /// <summary>
    /// Whether the search tries every pipeline schedule (1F1B, zero bubble and DualPipe) on every layout with a pipeline
    /// where it runs (<c>plan --schedules</c>); otherwise every layout runs the scenario's schedule. Off by default: few
    /// training frameworks run the schedules other than 1F1B (docs/pipeline-schedules.md).
    /// </summary>
    public bool SearchesSchedules { get; init; }

    /// <summary>
    /// The plan whose settings the search does not explore (overlaps, rank order, expert dispatch, explicit stage
    /// layers) every layout takes: its searched fields are ignored. By default the defaults of <see cref="ParallelPlan"/>.
    /// </summary>
    public ParallelPlan Settings { get; init; } = new(1, 1, 1, 1);

    /// <summary>Nothing pinned: every dimension searched.</summary>
    public static PlanPins None { get; } = new();

    /// <summary>
    /// The settings a search does not explore, carried over from <paramref name="plan"/>, with every searched dimension
    /// free. Explicit stage layers are not carried (they place one pipeline depth, and the depth is searched), nor
    /// hybrid sharding (a sharding group sized for one data-parallel degree; the search shards over all replicas), nor
    /// the offloaded layers (the search chooses them).
    /// </summary>
    /// <remarks>
    /// The plan's settings ride along into every layout the search builds: overlaps, rank order, dispatch, and the
    /// modules selective recompute replays, so "selective" in the search means the modules the scenario names. A
    /// pipeline overlap the scenario asks for is the framework's own wherever it can apply (with virtual stages), so it
    /// rides along as the framework's default: the layouts without virtual stages, where it cannot, stay in the search.
    /// </remarks>
    public static PlanPins SettingsOf(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new PlanPins
        {
            Settings = plan with
            {
                FirstStageLayers = null, LastStageLayers = null, ShardingGroup = 0, OffloadedLayers = 0,
                OverlapPipelineCommunication = plan.OverlapPipelineCommunication == true ? null : plan.OverlapPipelineCommunication,
            },
        };
    }

    /// <summary>Whether any searched dimension is pinned.</summary>
    public bool PinsAny => TensorParallelism is not null || ContextParallelism is not null || ContextCommunication is not null || ExpertParallelism is not null ||
        PipelineParallelism is not null || VirtualStages is not null || DataParallelism is not null || MicroBatchSize is not null ||
        SequenceParallelism is not null || Recompute is not null || ZeroStage is not null || OffloadedLayers is not null;
}
