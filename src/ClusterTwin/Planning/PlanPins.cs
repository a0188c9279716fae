using ClusterTwin.Parallelism;

namespace ClusterTwin.Planning;

/// <summary>
/// What the user fixed of a plan before the search: each searched dimension is either pinned to a value or left
/// free (null). The settings the search does not explore (rank order, overlap, hybrid sharding) are taken as given.
/// </summary>
public sealed record PlanPins
{
    /// <summary>Tensor-parallel degree, or null to search it.</summary>
    public int? TensorParallelism { get; init; }

    /// <summary>Context-parallel degree, or null to search it.</summary>
    public int? ContextParallelism { get; init; }

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

    /// <summary>Gradient reduction overlapped with the backward pass (not searched).</summary>
    public bool OverlapGradientReduction { get; init; } = true;

    /// <summary>Tensor-parallel collectives overlapped with their matmuls (not searched: a framework capability).</summary>
    public bool OverlapTensorCommunication { get; init; }

    /// <summary>How tokens reach their experts (not searched: a framework capability).</summary>
    public ExpertDispatch ExpertDispatch { get; init; }

    /// <summary>Expert all-to-alls overlapped with another micro-batch's computation (not searched: a framework capability).</summary>
    public bool OverlapExpertCommunication { get; init; }

    /// <summary>How ranks are laid out on chips (not searched).</summary>
    public RankOrder Order { get; init; } = RankOrder.TensorDataPipeline;

    /// <summary>Nothing pinned: every dimension searched.</summary>
    public static PlanPins None { get; } = new();

    /// <summary>The settings a search does not explore, carried over from <paramref name="plan"/>, with every searched dimension free.</summary>
    public static PlanPins SettingsOf(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new PlanPins
        {
            OverlapGradientReduction = plan.OverlapGradientReduction,
            OverlapTensorCommunication = plan.OverlapTensorCommunication,
            ExpertDispatch = plan.ExpertDispatch,
            OverlapExpertCommunication = plan.OverlapExpertCommunication,
            Order = plan.Order,
        };
    }
}
