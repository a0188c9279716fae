using ClusterTwin.Hardware;
using ClusterTwin.Workloads;

namespace ClusterTwin.Parallelism;

/// <summary>Why a plan cannot run on a cluster: degrees that do not divide what they split.</summary>
public static class PlanChecks
{
    /// <summary>Every reason the plan is invalid under <paramref name="framework"/>; empty when it is valid.</summary>
    public static IReadOnlyList<string> Problems(ParallelPlan plan, Cluster cluster, ModelArchitecture model, TrainingJob job, TrainingFramework framework)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(framework);
        var problems = Problems(plan, cluster, model, job);
        if (plan.OffloadedLayers > 0 && !framework.OffloadsActivations)
        {
            problems = [.. problems, $"the training framework {framework.Id} does not offload activations as modelled (it does not say offloads_activations: true): drop plan.offload_activations, or name a framework that does (training.framework)"];
        }

        if (plan.OverlapPipelineCommunication == true && (plan.PipelineParallelism == 1 || plan.VirtualStages == 1))
        {
            problems = [.. problems, $"plan.overlap_pipeline_communication needs the interleaved schedule, but the plan has pipeline {plan.PipelineParallelism} and virtual_stages {plan.VirtualStages} (expected both above 1): Megatron-Core refuses it otherwise (\"Non-interleaved pipeline parallelism does not support overlapping p2p communication\"); drop it, or add virtual stages"];
        }
        else if (plan.OverlapPipelineCommunication == true && !framework.OverlapsInterleavedPipelineSends)
        {
            problems = [.. problems, $"the training framework {framework.Id} does not overlap pipeline sends as modelled (it does not say overlaps_interleaved_pipeline_sends: true): drop plan.overlap_pipeline_communication, or name a framework that does (training.framework)"];
        }

        if (job.CudaGraphs == CudaGraphs.WholeLayers && framework.ExpertLaunch <= Units.Duration.Zero && framework.ExpertQuantizeLaunch <= Units.Duration.Zero)
        {
            problems = [.. problems, $"training.cuda_graphs: layers replays an eager framework's layers as CUDA graphs, but the training framework {framework.Id} launches nothing per expert (it compiles its step): set training.cuda_graphs: none"];
        }

        if (!job.FusedTokenPermutation && model.MixtureOfExperts is not null && framework.UnfusedTokenRouting is null)
        {
            problems = [.. problems, $"training.fused_token_permutation: false asks for the unfused token permutation, but the training framework {framework.Id} has no measured cost of it (its file has no unfused_token_routing): drop the setting, or name a framework that has one (training.framework)"];
        }

        if (plan.OverlapExpertCommunication && model.MixtureOfExperts is not null && framework.ExpertOverlap is null)
        {
            return [.. problems, $"the training framework {framework.Id} does not overlap expert communication with another micro-batch's computation (its file has no expert_overlap): drop plan.overlap_expert_communication, or name a framework that does (training.framework)"];
        }

        return problems;
    }

    /// <summary>
    /// Why activation offloading cannot run as planned: Megatron-Core offloads fewer layers than the model has, with one
    /// pipeline stage and no recompute (its TransformerConfig refuses the rest), over a host link the catalogue knows.
    /// </summary>
    private static IEnumerable<string> OffloadProblems(ParallelPlan plan, Cluster cluster, ModelArchitecture model)
    {
        if (plan.OffloadedLayers == 0)
        {
            yield break;
        }

        if (plan.OffloadedLayers < 0 || plan.OffloadedLayers >= model.Layers)
        {
            yield return $"offload_activations {plan.OffloadedLayers} must be at least 0 and fewer than {model.Name}'s {model.Layers} layers";
        }

        if (plan.PipelineParallelism > 1)
        {
            yield return $"activation offloading needs pipeline 1 (Megatron-Core has no offloading with pipeline parallelism), not {plan.PipelineParallelism}";
        }

        if (plan.Recompute != RecomputePolicy.None)
        {
            yield return "activation offloading does not combine with recompute (Megatron-Core refuses both): set recompute: none, or drop offload_activations";
        }

        if (cluster.System.HostLink is null)
        {
            yield return $"the {cluster.System.Name} has no host link bandwidth in the catalogue, so activations cannot be offloaded (add host_link to catalog/systems/{cluster.System.WholeId}.yaml)";
        }
    }

    /// <summary>Whether <paramref name="tensorRanks"/> tensor-parallel ranks split the heads, the key-value heads (or replicate them whole) and the feed-forward size.</summary>
    public static bool TensorSplits(ModelArchitecture model, long tensorRanks)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.AttentionHeads % tensorRanks == 0 && model.FeedForwardSize % tensorRanks == 0 && model.SplitsKeyValueHeads(tensorRanks);
    }

    /// <summary>Whether the all-to-all context exchange can hand each context-parallel rank whole heads, keys and values included, of each of <paramref name="tensorRanks"/> tensor-parallel ranks' shares.</summary>
    public static bool AllToAllSplitsHeads(ModelArchitecture model, int tensorRanks, int context)
    {
        ArgumentNullException.ThrowIfNull(model);
        var groups = (long)tensorRanks * context;
        return model.AttentionHeads % groups == 0 && model.KeyValueHeads % groups == 0;
    }

    /// <summary>Every reason the plan is invalid; empty when it is valid.</summary>
    public static IReadOnlyList<string> Problems(ParallelPlan plan, Cluster cluster, ModelArchitecture model, TrainingJob job)
    {
        var problems = new List<string>();
        var tensor = plan.TensorParallelism;
        var pipeline = plan.PipelineParallelism;
        if (tensor < 1 || pipeline < 1 || plan.DataParallelism < 1 || plan.MicroBatchSize < 1 || plan.VirtualStages < 1)
        {
            problems.Add("every parallel degree and the micro-batch size must be at least 1");
            return problems;
        }

        if (plan.ContextParallelism < 1)
        {
            problems.Add("context parallelism must be at least 1");
            return problems;
        }

        if (plan.Chips != cluster.ChipCount)
        {
            var context = plan.ContextParallelism > 1 ? $" x context {plan.ContextParallelism}" : string.Empty;
            var contextDegree = plan.ContextParallelism > 1 ? $" x {plan.ContextParallelism}" : string.Empty;
            problems.Add($"tensor{context} x pipeline x data = {tensor}{contextDegree} x {pipeline} x {plan.DataParallelism} = {plan.Chips} chips, but the cluster has {cluster.ChipCount}");
        }

        if (plan.ContextParallelism > 1 && job.Attention != AttentionKernel.Flash)
        {
            problems.Add("context parallelism splits attention over a fused (flash) attention kernel: set training.attention to flash");
        }

        if (plan.ContextParallelism > 1 && job.SequenceLength % (2 * plan.ContextParallelism) != 0)
        {
            problems.Add($"context parallelism {plan.ContextParallelism} splits each sequence into {2 * plan.ContextParallelism} chunks (two per rank, to balance the causal mask), which must divide the sequence length {job.SequenceLength}");
        }

        if (plan.ContextParallelism > 1 && plan.ContextCommunication == ContextCommunication.AllToAll)
        {
            if (!AllToAllSplitsHeads(model, tensor * plan.RanksPerChip, plan.ContextParallelism))
            {
                problems.Add($"all-to-all context parallelism splits each tensor-parallel rank's heads over the {plan.ContextParallelism} context-parallel ranks: tensor{(plan.RanksPerChip > 1 ? $" ({tensor * plan.RanksPerChip} ranks)" : string.Empty)} x context = {(long)tensor * plan.RanksPerChip * plan.ContextParallelism} must divide the {model.AttentionHeads} attention heads and the {model.KeyValueHeads} key-value heads (use context_communication: ring or all-gather)");
            }
        }

        problems.AddRange(OffloadProblems(plan, cluster, model));
        if (job.CudaGraphs == CudaGraphs.WholeLayers && model.MixtureOfExperts is not null && job.ExpertCapacityFactor is null)
        {
            problems.Add("training.cuda_graphs: layers captures whole layers, which needs fixed shapes, but dropless routing sends each expert a different number of tokens every step: set training.expert_capacity_factor (drop-and-pad routing), or set training.cuda_graphs: none (graphs of attention, the router and the preprocessing alone leave the expert multiplies' launches as they are)");
        }

        if (job.ExpertCapacityFactor is not null && model.MixtureOfExperts is not null && plan.ExpertDispatch != ExpertDispatch.AllToAll)
        {
            problems.Add("training.expert_capacity_factor needs expert_dispatch: all-to-all: Megatron-Core drops and pads tokens only in its alltoall dispatcher (\"moe_expert_capacity_factor only works with alltoall token dispatcher\"), not in DeepEP's or HybridEP's deduplicated one");
        }

        if (plan.Recomputed.HasFlag(RecomputeModules.LatentUpProjections) && model.LatentAttention is null)
        {
            problems.Add($"the recompute module mla_up_proj needs a model with latent attention; {model.Name} has none");
        }

        if (plan.ExpertParallelism < 1)
        {
            problems.Add("expert parallelism must be at least 1");
        }
        else if (model.MixtureOfExperts is not { } experts)
        {
            if (plan.ExpertParallelism > 1)
            {
                problems.Add($"expert parallelism {plan.ExpertParallelism} needs a mixture-of-experts model; {model.Name} is dense");
            }

            if ((plan.Recomputed & (RecomputeModules.Experts | RecomputeModules.ExpertActivation | RecomputeModules.SharedExperts)) != RecomputeModules.None)
            {
                problems.Add($"the recompute modules moe, moe_act and shared_experts need a mixture-of-experts model; {model.Name} is dense");
            }
        }
        else
        {
            if (experts.Routed % plan.ExpertParallelism != 0)
            {
                problems.Add($"expert parallelism {plan.ExpertParallelism} does not divide the {experts.Routed} routed experts");
            }

            if (plan.StageRanks % plan.ExpertParallelism != 0)
            {
                problems.Add($"expert parallelism {plan.ExpertParallelism} does not divide the {plan.StageRanks} ranks of a pipeline stage (tensor x context x data)");
            }

            if (tensor > 1 && !plan.SequenceParallelism)
            {
                problems.Add("a mixture of experts with tensor parallelism needs sequence parallelism (Megatron-Core splits the tokens across the tensor group before routing them)");
            }
        }

        // The heads and the feed-forward split over the group's ranks: a chip may run several (a Neuron chip, one per NeuronCore).
        var ranks = (long)tensor * plan.RanksPerChip;
        var degree = plan.RanksPerChip > 1 ? $"tensor parallelism {tensor} ({ranks} ranks, {plan.RanksPerChip} per chip)" : $"tensor parallelism {tensor}";
        if (model.AttentionHeads % ranks != 0)
        {
            problems.Add($"{degree} does not divide the {model.AttentionHeads} attention heads");
        }

        if (!model.SplitsKeyValueHeads(ranks))
        {
            problems.Add($"{degree} neither divides nor is a multiple of the {model.KeyValueHeads} key-value heads");
        }

        if (model.FeedForwardSize % ranks != 0)
        {
            problems.Add($"{degree} does not divide the feed-forward size {model.FeedForwardSize}");
        }

        var stages = PipelineLayers.Of(model.Layers, plan);
        if (pipeline > model.Layers)
        {
            problems.Add($"pipeline {pipeline} is deeper than the {model.Layers} layers");
        }
        else if (pipeline == 1 && (plan.FirstStageLayers is not null || plan.LastStageLayers is not null))
        {
            problems.Add("first-stage and last-stage layers need pipeline parallelism above 1 (one rank holds every layer)");
        }
        else if (ExplicitLayersBeyondTheModel(model.Layers, plan) is { } beyond)
        {
            problems.Add(beyond);
        }
        else if (stages.Explicit && !stages.Places)
        {
            problems.Add($"first-stage layers {plan.FirstStageLayers?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(default)"} and last-stage layers {plan.LastStageLayers?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(default)"} leave the {model.Layers} layers a remainder the other ranks cannot share evenly, or a rank with none (placed {stages.Describe(pipeline)})");
        }
        else if (!stages.Places)
        {
            problems.Add($"pipeline {pipeline} cannot place the {model.Layers} layers with at most one layer fewer on the first and the last rank (it would need {stages.Describe(pipeline)})");
        }
        else if (!stages.Holds(plan.VirtualStages))
        {
            problems.Add($"virtual stages {plan.VirtualStages} do not split pipeline {pipeline}'s ranks into whole chunks: the {model.Layers} layers fall {stages.Describe(pipeline)}, and the chunks must divide the most loaded rank's {stages.Heaviest} and leave every rank a layer per chunk (an end rank one layer short may give one chunk to the embedding or the loss)");
        }

        var sequencesPerReplica = (long)plan.DataParallelism * plan.MicroBatchSize;
        if (job.GlobalBatchSize % sequencesPerReplica != 0)
        {
            problems.Add($"the global batch of {job.GlobalBatchSize} sequences is not a multiple of data parallelism {plan.DataParallelism} x micro-batch {plan.MicroBatchSize}");
        }
        else if (PipelineScheduleKeys.Problem(plan.Schedule, pipeline, plan.VirtualStages, job.GlobalBatchSize / sequencesPerReplica) is { } schedule)
        {
            // First: a schedule without chunks says so before the interleaved schedule's rule for them.
            problems.Add(schedule);
        }
        else if (plan.VirtualStages > 1 && job.GlobalBatchSize / sequencesPerReplica % pipeline != 0)
        {
            problems.Add($"the interleaved schedule needs the {job.GlobalBatchSize / sequencesPerReplica} micro-batches per step to be a multiple of the pipeline size {pipeline}");
        }

        if (plan.VirtualStages > 1 && pipeline == 1)
        {
            problems.Add("virtual pipeline stages need pipeline parallelism above 1");
        }

        if (plan.ShardingGroup < 0 || (plan.ShardingGroup > 0 && plan.GradientReplicas % plan.ShardingGroup != 0))
        {
            problems.Add($"the sharding group of {plan.ShardingGroup} does not divide data parallelism {plan.DataParallelism}{(plan.ContextParallelism > 1 ? $" x context parallelism {plan.ContextParallelism}" : string.Empty)}");
        }

        if (plan.ZeroStage is < 0 or > 3)
        {
            problems.Add($"ZeRO stage {plan.ZeroStage} does not exist (expected 0, 1, 2 or 3)");
        }

        if (cluster.Chip.PeakRate(job.Precision) is null)
        {
            problems.Add($"{cluster.Chip.Name} has no published {job.Precision.Key()} rate (it supports {string.Join(", ", cluster.Chip.PeakRates.Keys.Select(p => p.Key()))})");
        }
        else if (!cluster.Chip.Supports(job.Format))
        {
            var scaled = cluster.Chip.ScaledFormats.IsEmpty ? "none" : string.Join(", ", cluster.Chip.ScaledFormats);
            problems.Add($"{cluster.Chip.Name} does not run {job.Format.Key} in hardware (its tensor cores scale: {scaled}); per-tensor fp8 or block-wise fp8-block run on any chip with an FP8 rate");
        }

        if (cluster.ChipCount > cluster.Fabric.MaximumEndpoints && cluster.SystemCount > 1)
        {
            problems.Add($"the fabric {cluster.Fabric.Id} reaches at most {cluster.Fabric.MaximumEndpoints} chips, the cluster has {cluster.ChipCount}");
        }

        return problems;
    }

    /// <summary>
    /// Where the plan's explicit first- and last-stage layers leave the other ranks no layer each (more than the model
    /// has): what is wrong and the counts that would place, in the scenario's own field names; null where they fit.
    /// </summary>
    private static string? ExplicitLayersBeyondTheModel(int layers, ParallelPlan plan)
    {
        var given = (plan.FirstStageLayers ?? 0) + (plan.LastStageLayers ?? 0);
        var others = plan.PipelineParallelism - (plan.FirstStageLayers is null ? 0 : 1) - (plan.LastStageLayers is null ? 0 : 1);
        var most = layers - others;
        if (given <= most)
        {
            return null;
        }

        var fields = plan.FirstStageLayers is not null && plan.LastStageLayers is not null
            ? $"first_stage_layers {plan.FirstStageLayers} and last_stage_layers {plan.LastStageLayers} together exceed"
            : plan.FirstStageLayers is not null ? $"first_stage_layers {plan.FirstStageLayers} exceeds" : $"last_stage_layers {plan.LastStageLayers} exceeds";
        var range = plan.FirstStageLayers is not null && plan.LastStageLayers is not null ? $"together at most {most}" : $"from 1 to {most}";
        return others > 0
            ? $"{fields} what the model's {layers} layers allow on pipeline {plan.PipelineParallelism}: {(others == 1 ? "the other rank needs a layer" : $"the other {others} ranks need a layer each")} (expected {range})"
            : $"{fields} the model's {layers} layers (expected {range}, the two adding up to {layers})";
    }
}
