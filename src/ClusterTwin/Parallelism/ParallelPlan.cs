namespace ClusterTwin.Parallelism;

/// <summary>Which activations are recomputed in the backward pass (Korthikanti et al. 2022).</summary>
public enum RecomputePolicy
{
    /// <summary>Keep every activation.</summary>
    None,

    /// <summary>
    /// Recompute only some modules of each layer (<see cref="ParallelPlan.RecomputeModules"/>): by default the
    /// attention core (scores, softmax, dropout, attention over values), as Korthikanti et al. 2022.
    /// </summary>
    Selective,

    /// <summary>Keep only each layer's input and recompute the whole layer.</summary>
    Full,
}

/// <summary>
/// The modules of a layer selective recompute replays, as Megatron-Core's <c>--recompute-modules</c> names them: each
/// keeps its input and drops what it computes from it, to compute it again in the backward pass.
/// </summary>
[Flags]
public enum RecomputeModules
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary><c>core_attn</c>: the attention core (scores, softmax, dropout, attention over values).</summary>
    CoreAttention = 1,

    /// <summary><c>layernorm</c>: the norms before attention and the feed-forward block (and latent attention's).</summary>
    Norms = 2,

    /// <summary><c>mlp</c>: a dense layer's feed-forward block.</summary>
    FeedForward = 4,

    /// <summary><c>moe_act</c>: the routed experts' activation function.</summary>
    ExpertActivation = 8,

    /// <summary><c>moe</c>: the whole mixture-of-experts block (router, dispatch and combine, experts).</summary>
    Experts = 16,

    /// <summary><c>shared_experts</c>: a mixture-of-experts block's shared experts.</summary>
    SharedExperts = 32,

    /// <summary><c>mla_up_proj</c>: latent attention's up-projections from the query and key-value latents to the heads.</summary>
    LatentUpProjections = 64,
}

/// <summary>Selective recompute's modules by Megatron-Core's names, and a plan's recompute in words.</summary>
public static class RecomputeModuleNames
{
    /// <summary>Each module by its Megatron-Core name.</summary>
    public static IReadOnlyDictionary<string, RecomputeModules> All { get; } = new Dictionary<string, RecomputeModules>(StringComparer.Ordinal)
    {
        ["core_attn"] = RecomputeModules.CoreAttention,
        ["layernorm"] = RecomputeModules.Norms,
        ["mlp"] = RecomputeModules.FeedForward,
        ["moe_act"] = RecomputeModules.ExpertActivation,
        ["moe"] = RecomputeModules.Experts,
        ["shared_experts"] = RecomputeModules.SharedExperts,
        ["mla_up_proj"] = RecomputeModules.LatentUpProjections,
    };

    /// <summary>The Megatron-Core names of <paramref name="modules"/>, in the order of <see cref="All"/>.</summary>
    public static IEnumerable<string> Names(RecomputeModules modules) => All.Where(pair => modules.HasFlag(pair.Value)).Select(pair => pair.Key);

    /// <summary>"none", "full", "selective" (the attention core), or "selective (layernorm, moe)".</summary>
    public static string Describe(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var policy = plan.Recompute.ToString().ToLowerInvariant();
        return plan.Recompute != RecomputePolicy.Selective || plan.RecomputeModules == RecomputeModules.CoreAttention
            ? policy
            : $"{policy} ({string.Join(", ", Names(plan.RecomputeModules))})";
    }
}

/// <summary>How a mixture-of-experts layer's tokens travel to their experts and back.</summary>
public enum ExpertDispatch
{
    /// <summary>
    /// One all-to-all each way in which every token goes once to every expert it is routed to (Megatron-Core's
    /// <c>alltoall</c> dispatcher; NCCL).
    /// </summary>
    AllToAll,

    /// <summary>
    /// A token goes once to each rank, and across the network once to each system, that holds any of its experts, and
    /// is forwarded inside the system from there (DeepEP's dispatch and combine kernels, Megatron-Core's <c>flex</c>
    /// dispatcher).
    /// </summary>
    Deduplicated,
}

/// <summary>
/// How a training job is laid out over chips: the degrees of each parallel dimension and the options that go with them.
/// </summary>
/// <param name="TensorParallelism">Chips that split each layer's matrices (Megatron tensor parallelism).</param>
/// <param name="PipelineParallelism">Pipeline stages.</param>
/// <param name="DataParallelism">Model replicas.</param>
/// <param name="MicroBatchSize">Sequences per micro-batch.</param>
/// <param name="VirtualStages">Model chunks per pipeline stage (interleaved 1F1B); 1 is plain 1F1B.</param>
/// <param name="SequenceParallelism">Split the norm and dropout activations across the tensor-parallel group.</param>
/// <param name="Recompute">Activation recompute policy.</param>
/// <param name="ZeroStage">0: none; 1: optimizer state sharded; 2: and gradients; 3: and weights (FSDP).</param>
/// <param name="OverlapGradientReduction">Overlap the data-parallel gradient reduction with the backward pass.</param>
/// <param name="Order">How ranks are numbered across the dimensions, which decides what shares a scale-up domain.</param>
/// <param name="OverlapTensorCommunication">
/// Overlap tensor-parallel collectives with the projections next to them (Transformer Engine's userbuffers, XLA's
/// collective matmuls); off by default, as in Megatron-LM 2022.
/// </param>
/// <param name="ShardingGroup">
/// Data-parallel ranks that share one copy of the sharded state (hybrid sharding: FSDP inside a group, replicas across
/// groups, as MaxText does across TPU slices); 0 means the whole data-parallel dimension (with context parallelism,
/// data times context ranks, all of which hold the same parameters).
/// </param>
/// <param name="ContextParallelism">
/// Chips that split each sequence (Megatron-Core's context parallelism, by default ring attention: see
/// <see cref="ParallelPlan.ContextCommunication"/>); they hold the same parameters, so their gradients are reduced
/// with the data-parallel ones.
/// </param>
/// <param name="ExpertParallelism">
/// Chips that share a mixture-of-experts layer's routed experts, each holding its share of them whole (expert tensor
/// parallelism 1, as Megatron-Core runs the published recipes): consecutive ranks of a pipeline stage, so it divides
/// tensor x context x data parallelism. Tokens reach their experts by all-to-all.
/// </param>
public sealed record ParallelPlan(
    int TensorParallelism,
    int PipelineParallelism,
    int DataParallelism,
    int MicroBatchSize,
    int VirtualStages = 1,
    bool SequenceParallelism = false,
    RecomputePolicy Recompute = RecomputePolicy.None,
    int ZeroStage = 1,
    bool OverlapGradientReduction = true,
    RankOrder Order = RankOrder.TensorDataPipeline,
    int ShardingGroup = 0,
    bool OverlapTensorCommunication = false,
    int ContextParallelism = 1,
    int ExpertParallelism = 1)
{
    /// <summary>
    /// The ranks each chip runs (the chip's <c>ranks_per_chip</c>): the degrees count chips, a Neuron framework's
    /// tensor-parallel ranks count NeuronCores. Key-value heads are replicated per rank past their count. The engine
    /// sets it from the cluster's chip.
    /// </summary>
    public int RanksPerChip { get; init; } = 1;

    /// <summary>The pipeline schedule: 1F1B (plain or interleaved) by default, zero bubble (ZB-H1) or DualPipe.</summary>
    public PipelineScheduleKind Schedule { get; init; }

    /// <summary>The modules selective recompute replays; by default the attention core.</summary>
    public RecomputeModules RecomputeModules { get; init; } = RecomputeModules.CoreAttention;

    /// <summary>What <see cref="Recompute"/> replays: nothing, the selected modules, or the whole layer.</summary>
    public RecomputeModules Recomputed => Recompute == RecomputePolicy.Selective ? RecomputeModules : RecomputeModules.None;

    /// <summary>
    /// Whether pipeline sends overlap the next model chunk's computation (Megatron-Core's <c>overlap_p2p_comm</c>, for
    /// the interleaved schedule only); null: the training framework's default
    /// (<see cref="Workloads.TrainingFramework.OverlapsInterleavedPipelineSends"/>) with virtual stages, none without.
    /// </summary>
    public bool? OverlapPipelineCommunication { get; init; }

    /// <summary>Whether the plan's pipeline sends overlap computation under <paramref name="framework"/>.</summary>
    public bool OverlapsPipelineSends(Workloads.TrainingFramework framework)
    {
        ArgumentNullException.ThrowIfNull(framework);
        return PipelineParallelism > 1 && VirtualStages > 1 && (OverlapPipelineCommunication ?? framework.OverlapsInterleavedPipelineSends);
    }

    /// <summary>How the context-parallel ranks exchange keys and values: ring attention (the default), all-gather or all-to-all.</summary>
    public ContextCommunication ContextCommunication { get; init; } = ContextCommunication.Ring;

    /// <summary>How tokens reach their experts: a plain all-to-all, or deduplicated per rank and per system.</summary>
    public ExpertDispatch ExpertDispatch { get; init; } = ExpertDispatch.AllToAll;

    /// <summary>
    /// Overlap each micro-batch's expert all-to-alls with another micro-batch's computation (Megatron-Core's
    /// <c>overlap_moe_expert_parallel_comm</c>, which merges the forward of one micro-batch with the backward of another
    /// in the 1F1B steady state); off by default.
    /// </summary>
    public bool OverlapExpertCommunication { get; init; }

    /// <summary>
    /// Layers on the first pipeline rank, or null for the default placement (<see cref="PipelineLayers"/>); the middle
    /// ranks share what the first and last leave evenly.
    /// </summary>
    public int? FirstStageLayers { get; init; }

    /// <summary>Layers on the last pipeline rank, or null for the default placement.</summary>
    public int? LastStageLayers { get; init; }

    /// <summary>
    /// Layers whose activations go to the host's memory after their forward pass and come back before their backward
    /// pass (Megatron-Core's <c>cpu_offloading_num_layers</c>, the first layers of the model); 0, the default, offloads
    /// none. Megatron-Core allows it with one pipeline stage and no recompute only.
    /// </summary>
    public int OffloadedLayers { get; init; }

    /// <summary>Ranks of one pipeline stage: tensor x context x data parallelism.</summary>
    public long StageRanks => (long)TensorParallelism * ContextParallelism * DataParallelism;

    /// <summary>Ranks that hold the same routed experts (expert data parallelism): the stage's ranks over the expert-parallel degree.</summary>
    public long ExpertReplicas => StageRanks / Math.Max(1, ExpertParallelism);

    /// <summary>
    /// Expert replicas the routed experts' ZeRO state is sharded over: all of them, or under hybrid sharding the same
    /// share of them as the sharding group is of the gradient replicas.
    /// </summary>
    public int ExpertShardingDegree => (int)Math.Max(1, ShardingGroup > 0 ? ExpertReplicas * ShardingGroup / GradientReplicas : ExpertReplicas);

    /// <summary>Ranks that hold the same parameters and reduce their gradients together: data times context parallelism.</summary>
    public int GradientReplicas => DataParallelism * ContextParallelism;

    /// <summary>Gradient-replica ranks the ZeRO state is sharded over.</summary>
    public int ShardingDegree => ShardingGroup > 0 ? ShardingGroup : GradientReplicas;

    /// <summary>Replicas of the sharded state: groups that all-reduce their gradient shards.</summary>
    public int ReplicaGroups => GradientReplicas / ShardingDegree;

    /// <summary>Replicas of the routed experts' sharded state under hybrid sharding (as many as <see cref="ReplicaGroups"/>); one otherwise.</summary>
    public int ExpertReplicaGroups => (int)Math.Max(1, ExpertReplicas / ExpertShardingDegree);

    /// <summary>Chips the plan occupies.</summary>
    public long Chips => (long)TensorParallelism * ContextParallelism * PipelineParallelism * DataParallelism;
}
