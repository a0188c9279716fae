using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Memory;

/// <summary>
/// Memory per chip: weights, gradients, optimizer state by ZeRO stage, activations by recompute policy and pipeline
/// schedule, and communication buffers.
/// </summary>
/// <remarks>
/// Activations follow Korthikanti et al. 2022 (section 4, eq. 1-5), generalized from their GPT layer
/// (<c>sbh(34 + 5as/h)</c> bytes) to grouped-query attention, SwiGLU, optional dropout and fused attention.
/// The 1F1B schedule keeps <c>p</c> micro-batches in flight on the first stage; interleaving adds a factor
/// <c>1 + (p-1)/(pv)</c> (their section 4.2.3).
/// </remarks>
public static class MemoryModel
{
    /// <summary>Bytes per parameter of mixed-precision Adam state: FP32 master weights and two FP32 moments.</summary>
    public const double OptimizerBytesPerParameter = 12;

    /// <summary>Bytes per parameter of the FP32 master weights, part of <see cref="OptimizerBytesPerParameter"/>.</summary>
    public const double MasterBytesPerParameter = 4;

    /// <summary>
    /// Whether a chip holds the weights as the FP32 master shard alone: under full sharding (ZeRO-3) with a framework
    /// that keeps no compute-precision copy (<see cref="FullyShardedWeights.MasterOnly"/>).
    /// </summary>
    public static bool KeepsMasterOnly(ParallelPlan plan, FullyShardedWeights shardedWeights)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.ZeroStage >= 3 && shardedWeights == FullyShardedWeights.MasterOnly;
    }

    /// <summary>Bytes per parameter of the gradient buffer when gradients are reduced in FP32 (Megatron's default under BF16).</summary>
    public const double GradientBytesPerParameter = 4;

    /// <summary>
    /// Bytes per parameter of the gradients a chip keeps. A framework that keeps a compute-precision copy of the weights
    /// beside the FP32 master accumulates them in a buffer of the reduction's precision (Megatron-Core's
    /// <c>main_grad</c> buffer is FP32 only with <c>grad_reduce_in_fp32</c>); one that keeps only the FP32 shard
    /// (PyTorch FSDP, MaxText) holds gradients in the parameters' FP32, whatever precision it reduces them in.
    /// </summary>
    public static double KeptGradientBytesPerParameter(FullyShardedWeights shardedWeights, GradientReduction reduction) =>
        shardedWeights == FullyShardedWeights.MasterOnly ? GradientBytesPerParameter : reduction.BytesPerElement();

    /// <summary>Parameters in one data-parallel gradient bucket (Megatron-LM's default bucket size).</summary>
    public const double GradientBucketParameters = 40e6;

    /// <summary>Activation bytes kept per element: BF16, also under low-precision multiplies but for the inputs a framework keeps cast (<see cref="SavedInputBytes"/>).</summary>
    private const double ActivationBytes = 2;

    /// <summary>
    /// The memory of the most loaded stage: the first (embedding, most micro-batches in flight), the second (a middle
    /// stage, one micro-batch fewer in flight but possibly a layer more when the layers do not divide) or the last
    /// (output head, logits).
    /// </summary>
    public static MemoryBreakdown PerChip(ModelArchitecture model, TrainingJob job, ParallelPlan plan, FullyShardedWeights shardedWeights = FullyShardedWeights.ComputeAndMaster,
        GradientReduction reduction = GradientReduction.Fp32, SavedMultiplyInputs savedInputs = SavedMultiplyInputs.HighPrecision)
    {
        CheckDegrees(plan);
        var pipeline = plan.PipelineParallelism;
        var stages = PipelineLayers.Of(model.Layers, plan);
        var microBatches = job.GlobalBatchSize / ((double)plan.DataParallelism * plan.MicroBatchSize);
        // The micro-batches' worth of a rank's layers it keeps: its layer passes in flight over its layers.
        double InFlight(int rank, int rankLayers) => rankLayers == 0 ? 0
            : LayerPassesInFlight(plan, rank, microBatches, rankLayers, stages.ShortOuterChunk(rankLayers, plan.VirtualStages)) / rankLayers;

        var kinds = LayerActivations.Of(model, job, plan, savedInputs);
        if (plan.Schedule == PipelineScheduleKind.DualPipe && pipeline > 1)
        {
            return MirroredHeaviest(model, job, plan, stages, microBatches, kinds, shardedWeights, reduction);
        }

        var weights = StageParameters.Of(model, job, plan);
        double Activations(int start, int count, double inFlight) => kinds.Kept(start, count, inFlight);

        var firstActivations = Activations(0, stages.First, InFlight(0, stages.First));
        var lastActivations = (pipeline == 1 ? firstActivations : Activations(model.Layers - stages.Last, stages.Last, InFlight(pipeline - 1, stages.Last))) + HeadActivations(model, job, plan, kinds);

        var first = Breakdown(weights.First, weights.FirstExperts, firstActivations, model, job, plan, shardedWeights, reduction);
        var last = Breakdown(weights.Last, weights.LastExperts, lastActivations, model, job, plan, shardedWeights, reduction);
        var heaviest = first.Total >= last.Total ? first : last;
        if (pipeline > 2)
        {
            // The second rank (most micro-batches in flight of the middle ones) and the last middle rank (fewest leading
            // dense layers), each with its own layers' weights.
            MemoryBreakdown Middle(int start, double inFlight)
            {
                var (shared, routed) = StageParameters.Rank(model, plan, model.DenseLayersIn(start, stages.Middle), stages.Middle);
                return Breakdown(shared, routed, Activations(start, stages.Middle, inFlight), model, job, plan, shardedWeights, reduction);
            }

            var second = Middle(stages.First, InFlight(1, stages.Middle));
            var lastMiddle = Middle(stages.LastMiddleStart(pipeline), InFlight(pipeline - 2, stages.Middle));
            heaviest = second.Total > heaviest.Total ? second : heaviest;
            heaviest = lastMiddle.Total > heaviest.Total ? lastMiddle : heaviest;
        }

        return heaviest;
    }

    /// <summary>
    /// The memory of one pipeline rank, <paramref name="rank"/> of the plan's, holding the <paramref name="count"/>
    /// layers from <paramref name="start"/> as the plan's schedule keeps their activations, with the embedding on the
    /// first rank and the output head (with any multi-token prediction modules) on the last: for a placement the
    /// first, middle and last ranks of <see cref="PipelineLayers"/> do not describe (a pipeline over two kinds of chip).
    /// </summary>
    public static MemoryBreakdown PerRank(ModelArchitecture model, TrainingJob job, ParallelPlan plan, int rank, int start, int count,
        FullyShardedWeights shardedWeights = FullyShardedWeights.ComputeAndMaster, GradientReduction reduction = GradientReduction.Fp32, SavedMultiplyInputs savedInputs = SavedMultiplyInputs.HighPrecision)
    {
        CheckDegrees(plan);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, plan.PipelineParallelism);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var microBatches = job.GlobalBatchSize / ((double)plan.DataParallelism * plan.MicroBatchSize);
        var kinds = LayerActivations.Of(model, job, plan, savedInputs);
        var activations = kinds.Kept(start, count, LayerPassesInFlight(plan, rank, microBatches, count, shortOuterChunk: false) / count) +
            (rank == plan.PipelineParallelism - 1 ? HeadActivations(model, job, plan, kinds) : 0);
        var (shared, routed) = StageParameters.OfRank(model, job, plan, rank, start, count);
        return Breakdown(shared, routed, activations, model, job, plan, shardedWeights, reduction);
    }

    /// <summary>
    /// The heaviest rank under DualPipe, where rank <c>r</c> of <c>p</c> holds stage <c>r</c> and its mirror
    /// <c>p - 1 - r</c> (ranks <c>r</c> and <c>p - 1 - r</c> alike): <c>p - r</c> micro-batches in flight on the stage
    /// it runs early in its pass and <c>r + 1</c> on the one it runs late, <c>p + 1</c> in all (the DeepSeek-V3 report,
    /// table 2; the schedule's replay counts the same), each capped at the half of the micro-batches one direction
    /// carries. The end ranks keep the head's logits too. Weight-gradient passes deferred by the schedule are counted
    /// until they run, an upper bound.
    /// </summary>
    private static MemoryBreakdown MirroredHeaviest(ModelArchitecture model, TrainingJob job, ParallelPlan plan, PipelineLayers stages, double microBatches,
        LayerActivations kinds, FullyShardedWeights shardedWeights, GradientReduction reduction)
    {
        var pipeline = plan.PipelineParallelism;
        var perDirection = microBatches / 2;
        (int Start, int Count) Layers(int stage) => stages.OfRank(stage, pipeline, model.Layers);

        MemoryBreakdown? heaviest = null;
        for (var rank = 0; rank < pipeline / 2; rank++)
        {
            var (early, late) = (Layers(rank), Layers(pipeline - 1 - rank));
            var (earlyShared, earlyRouted) = StageParameters.OfRank(model, job, plan, rank, early.Start, early.Count);
            var (lateShared, lateRouted) = StageParameters.OfRank(model, job, plan, pipeline - 1 - rank, late.Start, late.Count);
            // The working set of the layer being recomputed is one, whichever stage it belongs to.
            var activations = kinds.Kept(early.Start, early.Count, Math.Min(pipeline - rank, perDirection))
                + kinds.Kept(late.Start, late.Count, Math.Min(rank + 1, perDirection)) - kinds.Kept(late.Start, late.Count, 0)
                + (rank == 0 ? HeadActivations(model, job, plan, kinds) : 0);
            var memory = Breakdown(earlyShared + lateShared, earlyRouted + lateRouted, activations, model, job, plan, shardedWeights, reduction);
            heaviest = heaviest is null || memory.Total > heaviest.Total ? memory : heaviest;
        }

        return heaviest!;
    }

    /// <summary>
    /// What the last rank keeps beyond its layers: the output head's FP32 logits and, where the job trains multi-token
    /// prediction, each module's layer and logits, for the one micro-batch in flight there (its last chunk).
    /// </summary>
    private static double HeadActivations(ModelArchitecture model, TrainingJob job, ParallelPlan plan, LayerActivations kinds)
    {
        var logits = 2.0 * 4 * LayerKernels.Tokens(job, plan) * (model.VocabularySize / (double)plan.TensorParallelism);
        return logits + (job.MultiTokenPredictionDepth(model) * ((model.MultiTokenPredictionUsesExperts ? kinds.Expert : kinds.Dense).Stored + logits));
    }

    /// <summary>
    /// The activations a rank keeps of its layers: each dense and expert layer's stored bytes per micro-batch in flight,
    /// and the working set of the layer being recomputed. Offloaded layers (the model's first ones) keep nothing on the
    /// chip but the one layer being moved to or from the host.
    /// </summary>
    private readonly record struct LayerActivations(ModelArchitecture Model, ParallelPlan Plan, (double Stored, double Working) Dense, (double Stored, double Working) Expert)
    {
        public static LayerActivations Of(ModelArchitecture model, TrainingJob job, ParallelPlan plan, SavedMultiplyInputs savedInputs)
        {
            var dense = ActivationsPerLayer(model, job, plan, savedInputs: savedInputs);
            return new(model, plan, dense, model.ExpertLayerCount > 0 ? ActivationsPerLayer(model, job, plan, expertLayer: true, savedInputs) : dense);
        }

        /// <summary>Layers [start, start + count), the leading ones dense, with inFlight micro-batches' worth kept.</summary>
        public double Kept(int start, int count, double inFlight)
        {
            var offloaded = Math.Clamp(Plan.OffloadedLayers - start, 0, count);
            var stored = Stored(start, count) - Stored(start, offloaded) + InTransit(start, offloaded);
            return (stored * inFlight) + Math.Max(Model.DenseLayerCount > 0 ? Dense.Working : 0, Expert.Working);
        }

        private double Stored(int from, int layers)
        {
            var denseLayers = Model.DenseLayersIn(from, layers);
            return (denseLayers * Dense.Stored) + ((layers - denseLayers) * Expert.Stored);
        }

        /// <summary>The layer in transit: the larger kind among the offloaded ones.</summary>
        private double InTransit(int start, int layers)
        {
            var denseLayers = Model.DenseLayersIn(start, layers);
            return layers == 0 ? 0 : Math.Max(denseLayers > 0 ? Dense.Stored : 0, layers > denseLayers ? Expert.Stored : 0);
        }
    }

    /// <summary>
    /// The chunk forward passes rank <paramref name="rank"/> holds at its peak. Under 1F1B, the <c>p - rank</c> of its
    /// warm-up and the one in flight (<c>p - rank</c> in all), each the whole rank. Under zero bubble (ZB-H1), <c>p</c>
    /// on every rank: rank <c>r</c> defers <c>r</c> weight-gradient passes, whose inputs it keeps until they run (an
    /// upper bound: the input-gradient pass frees what only it needs). Under the interleaved schedule,
    /// Megatron-LM's warm-up of <c>2 (p - rank - 1) + (v - 1) p</c> chunk passes and the one in flight, each chunk a
    /// v-th of the rank's layers (megatron/core/pipeline_parallel/schedules.py,
    /// forward_backward_pipelining_with_interleaving): <c>p + (p - 1) / v</c> micro-batches' worth on the first rank,
    /// and still <c>((v - 1) p + 1) / v</c> on the last, not one; plus the extra forward Megatron-LM schedules when
    /// expert communication overlaps another micro-batch (<c>overlap_moe_expert_parallel_comm</c>,
    /// get_pp_rank_microbatches). Never more than there are.
    /// </summary>
    private static double ChunkPassesInFlight(ParallelPlan plan, int rank, double microBatches)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var (pipeline, chunks) = (plan.PipelineParallelism, plan.VirtualStages);
        var combined = plan.OverlapExpertCommunication ? 1 : 0;
        return chunks == 1
            ? Math.Min(plan.Schedule == PipelineScheduleKind.ZeroBubble ? pipeline : pipeline - rank, microBatches)
            : Math.Min((2.0 * (pipeline - rank - 1)) + ((chunks - 1) * pipeline) + 1 + combined, microBatches * chunks);
    }

    /// <summary>
    /// The layer passes (a layer's activations for one micro-batch) rank <paramref name="rank"/> holds at its peak, its
    /// <paramref name="rankLayers"/> in chunks: the chunk passes in flight times the layers per chunk. Megatron-LM
    /// issues the passes in groups of p micro-batches per chunk, cycling through the chunks, so where an end rank's
    /// outer chunk is a layer short (<paramref name="shortOuterChunk"/>: the first rank's first chunk, the
    /// embedding's, or the last rank's last, the loss's) that chunk's own passes each hold a layer fewer: on the first
    /// rank the most of any chunk, on the last one.
    /// </summary>
    public static double LayerPassesInFlight(ParallelPlan plan, int rank, double microBatches, int rankLayers, bool shortOuterChunk)
    {
        var passes = ChunkPassesInFlight(plan, rank, microBatches);
        var (pipeline, chunks) = (plan.PipelineParallelism, plan.VirtualStages);
        if (chunks == 1 || !shortOuterChunk)
        {
            return passes * rankLayers / chunks;
        }

        var perChunk = (rankLayers + 1) / chunks;
        var shortChunk = rank == 0 ? 0 : chunks - 1;
        var cycle = (double)pipeline * chunks;
        var whole = Math.Floor(passes / cycle);
        var shortPasses = (whole * pipeline) + Math.Clamp(passes - (whole * cycle) - (shortChunk * pipeline), 0, pipeline);
        return (passes * perChunk) - shortPasses;
    }

    /// <summary>Activation bytes one layer keeps for one micro-batch (<c>Stored</c>), and the extra working set of the layer being recomputed (<c>Working</c>).</summary>
    /// <remarks>
    /// A multiply's input that the backward pass needs is kept at <see cref="SavedInputBytes"/>: under a low-precision
    /// format and a framework that keeps the cast copy (Transformer Engine), the inputs of the query-key-value,
    /// feed-forward, expert and latent up-projection multiplies are kept in that format with their scales. Two stay in
    /// BF16: the attention output, which the fused attention keeps for itself and Megatron-Core's output projection
    /// shares (<c>set_save_original_input(self.linear_proj)</c> under FP8 recipes other than delayed scaling, TE 2.6 on,
    /// and FP4), and an expert layer's norm output, the router's input (a shared expert keeps its own cast copy of it).
    /// </remarks>
    public static (double Stored, double Working) ActivationsPerLayer(ModelArchitecture model, TrainingJob job, ParallelPlan plan, bool expertLayer = false,
        SavedMultiplyInputs savedInputs = SavedMultiplyInputs.HighPrecision)
    {
        CheckDegrees(plan);
        var tokens = LayerKernels.Tokens(job, plan);
        double tensor = plan.TensorParallelism;
        double hidden = model.HiddenSize;
        var masks = job.Dropout ? 1.0 : 0.0;
        var savedInputBytes = SavedInputBytes(job, savedInputs);
        var experts = expertLayer ? model.MixtureOfExperts : null;
        var modules = plan.Recomputed;
        bool Replays(RecomputeModules module) => modules.HasFlag(module);

        // Replicated across the tensor-parallel group unless sequence parallelism splits them: the two norm inputs, the
        // query-key-value multiply's input, the feed-forward block's input (a dense layer's first multiply's; an expert
        // layer's router input, in BF16, and a shared expert's cast copy of it where the format narrows it), and the two
        // dropout masks.
        var replicatedShare = tokens * hidden / (plan.SequenceParallelism ? tensor : 1);
        var normInputs = replicatedShare * ((2 * ActivationBytes) + (2 * masks));
        // Latent attention's query and key-value down-projections are two multiplies, each keeping its own cast copy.
        var queryKeyValueInput = replicatedShare * savedInputBytes * (model.LatentAttention is not null && savedInputBytes < ActivationBytes ? 2 : 1);
        var routerInput = experts is null ? 0 : replicatedShare * ActivationBytes;
        var sharedExpertInput = experts is { Shared: > 0 } && savedInputBytes < ActivationBytes ? replicatedShare * savedInputBytes : 0;
        var denseFeedForwardInput = experts is null ? replicatedShare * savedInputBytes : 0;

        // Split by tensor parallelism: queries, keys and values, the attention output, and the feed-forward
        // intermediates (GeLU input and output; SwiGLU's gate, up and product, the last the second multiply's input).
        // Latent attention also keeps its latents before their norms (and the rotary key) and after them, the
        // up-projections' inputs, replicated.
        var feedForwardIntermediates = model.Activation == FeedForwardActivation.SwiGlu ? 3 : 2;
        var queriesKeysValues = tokens * ActivationBytes * (((double)model.QueryWidth / tensor) + (2 * model.KeyValueWidthPerRank(plan.TensorParallelism, plan.RanksPerChip)));
        var attentionOutput = tokens * ActivationBytes * model.ValueWidth / tensor;
        var (latentsBeforeNorms, latentsAfterNorms) = model.LatentAttention is { } latent
            ? (tokens * ActivationBytes * (latent.QueryRank + latent.KeyValueRank + latent.RotaryHeadSize), tokens * savedInputBytes * (latent.QueryRank + latent.KeyValueRank))
            : (0.0, 0.0);
        double FeedForward(RecomputeModules replayed) => experts is not null
            ? ExpertActivations(model, experts, job, plan, feedForwardIntermediates, replayed, savedInputBytes)
            : replayed.HasFlag(RecomputeModules.FeedForward) ? 0 : tokens * Intermediates(feedForwardIntermediates, savedInputBytes) * (double)model.FeedForwardSize / tensor;
        var feedForward = FeedForward(RecomputeModules.None);
        // The standard kernel keeps the softmax output and, with dropout, the mask and the dropped-out scores.
        var core = job.Attention == AttentionKernel.Standard
            ? (double)model.AttentionHeads * job.SequenceLength * job.SequenceLength * plan.MicroBatchSize * (ActivationBytes + (masks * (ActivationBytes + 1))) / tensor
            : tokens * model.AttentionHeads * 4.0 / tensor;
        var kept = normInputs + queryKeyValueInput + routerInput + sharedExpertInput + denseFeedForwardInput +
                   queriesKeysValues + attentionOutput + latentsBeforeNorms + latentsAfterNorms + feedForward + core;

        if (plan.Recompute == RecomputePolicy.Full)
        {
            return (tokens * hidden * ActivationBytes / (plan.SequenceParallelism ? tensor : 1), kept);
        }

        // Selective recompute keeps each module's input and drops what it computes: the expert layer's feed-forward norm
        // output (the router's input, and the shared expert's copy; the other norms are fused into the projections after
        // them), the attention core's scores, latent attention's up-projections (their inputs after the norms, and the
        // queries, keys and values they write, which the core's backward pass gets again from the kept latents), a dense
        // feed-forward block's first input and intermediates, and the expert block's (above; the shared expert's copy
        // with the block or the shared experts). The working set of the layer being replayed is what it drops.
        var dropped = (Replays(RecomputeModules.Norms) ? routerInput : 0) + (Replays(RecomputeModules.CoreAttention) ? core : 0) +
                      (Replays(RecomputeModules.LatentUpProjections) && model.LatentAttention is not null ? queriesKeysValues + latentsAfterNorms : 0) +
                      (Replays(RecomputeModules.FeedForward) ? denseFeedForwardInput : 0) +
                      (Replays(RecomputeModules.Norms) || Replays(RecomputeModules.Experts) || Replays(RecomputeModules.SharedExperts) ? sharedExpertInput : 0) +
                      feedForward - FeedForward(modules);
        return (kept - dropped, dropped);
    }

    /// <summary>Bytes per token and feed-forward width of a feed-forward block's kept intermediates: all in BF16 but the second multiply's input.</summary>
    private static double Intermediates(int count, double savedInputBytes) => ((count - 1) * ActivationBytes) + savedInputBytes;

    /// <summary>
    /// What one chip keeps in its host's memory while it offloads (<see cref="ParallelPlan.OffloadedLayers"/>): the
    /// offloaded layers' activations of the micro-batch in flight (offloading runs with one pipeline stage, so one).
    /// </summary>
    public static Bytes OffloadedPerChip(ModelArchitecture model, TrainingJob job, ParallelPlan plan, SavedMultiplyInputs savedInputs = SavedMultiplyInputs.HighPrecision)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.OffloadedLayers <= 0)
        {
            return Bytes.Zero;
        }

        var dense = model.DenseLayersIn(0, plan.OffloadedLayers);
        var expert = plan.OffloadedLayers - dense;
        var denseBytes = dense > 0 ? ActivationsPerLayer(model, job, plan, savedInputs: savedInputs).Stored : 0;
        var expertBytes = expert > 0 ? ActivationsPerLayer(model, job, plan, expertLayer: true, savedInputs).Stored : 0;
        return Bytes.FromCount((dense * denseBytes) + (expert * expertBytes));
    }

    /// <summary>
    /// Bytes per element at which a multiply's input is kept for the backward pass: the job's format with its scales
    /// where it is narrower than BF16 and the framework keeps the cast copy, BF16 otherwise.
    /// </summary>
    public static double SavedInputBytes(TrainingJob job, SavedMultiplyInputs savedInputs)
    {
        ArgumentNullException.ThrowIfNull(job);
        return savedInputs == SavedMultiplyInputs.Quantized && job.CastsMultiplyInputs ? job.MatrixBytesPerElement : ActivationBytes;
    }

    /// <summary>
    /// What a mixture-of-experts block keeps for the backward pass on one chip: router scores (FP32), the permuted
    /// tokens and each expert's intermediates for the tokens the busiest chip receives, and the shared experts'
    /// intermediates, split by tensor parallelism. The permuted tokens and the activations' outputs are multiply
    /// inputs, kept at <paramref name="savedInputBytes"/> bytes per element.
    /// </summary>
    /// <remarks>
    /// Recomputing the whole block (<c>moe</c>) keeps none of it; the routed experts' activation (<c>moe_act</c>) drops
    /// its output, one intermediate; the shared experts (<c>shared_experts</c>) drop theirs.
    /// </remarks>
    private static double ExpertActivations(ModelArchitecture model, ExpertLayers experts, TrainingJob job, ParallelPlan plan, int intermediates, RecomputeModules modules, double savedInputBytes)
    {
        if (modules.HasFlag(RecomputeModules.Experts))
        {
            return 0;
        }

        var routed = LayerKernels.RoutedTokens(job, plan);
        var received = routed * experts.PerToken * LayerKernels.LoadImbalance(experts, job, plan);
        var router = routed * experts.Routed * 4.0;
        // The routed experts' intermediates: moe_act drops the activation's output, the second multiply's input.
        var routedIntermediates = modules.HasFlag(RecomputeModules.ExpertActivation) ? (intermediates - 1) * ActivationBytes : Intermediates(intermediates, savedInputBytes);
        var routedExperts = received * ((model.HiddenSize * savedInputBytes) + (routedIntermediates * (double)experts.FeedForwardSize));
        var shared = modules.HasFlag(RecomputeModules.SharedExperts) ? 0 : LayerKernels.Tokens(job, plan) * Intermediates(intermediates, savedInputBytes) * (double)experts.Shared * experts.FeedForwardSize / plan.TensorParallelism;
        return router + routedExperts + shared;
    }

    private static void CheckDegrees(ParallelPlan plan)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.TensorParallelism, 1, nameof(plan));
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.PipelineParallelism, 1, nameof(plan));
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.DataParallelism, 1, nameof(plan));
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.MicroBatchSize, 1, nameof(plan));
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.VirtualStages, 1, nameof(plan));
        ArgumentOutOfRangeException.ThrowIfLessThan(plan.ContextParallelism, 1, nameof(plan));
    }

    /// <param name="parameters">Parameters per chip apart from routed experts, sharded over the gradient replicas.</param>
    /// <param name="expertParameters">Routed-expert parameters per chip, sharded over the expert replicas.</param>
    /// <param name="activations">Activation bytes.</param>
    /// <param name="model">The model.</param>
    /// <param name="job">The job.</param>
    /// <param name="plan">The plan.</param>
    /// <param name="shardedWeights">What the framework keeps of the weights under ZeRO-3.</param>
    /// <param name="reduction">The precision gradients are reduced in: the buckets' precision, and the kept gradients' where the framework keeps them so.</param>
    private static MemoryBreakdown Breakdown(double parameters, double expertParameters, double activations, ModelArchitecture model, TrainingJob job, ParallelPlan plan,
        FullyShardedWeights shardedWeights, GradientReduction reduction)
    {
        double data = plan.ShardingDegree;
        double expertData = plan.ExpertShardingDegree;
        var weightBytes = Math.Min(2, job.MatrixBytesPerElement);
        double Sharded(double bytesPerParameter, int fromStage) =>
            (parameters * bytesPerParameter / (plan.ZeroStage >= fromStage ? data : 1)) + (expertParameters * bytesPerParameter / (plan.ZeroStage >= fromStage ? expertData : 1));
        // Fully sharded with the FP32 shard alone, the weights are that master copy and the optimizer keeps the moments.
        var masterOnly = KeepsMasterOnly(plan, shardedWeights);
        var weights = Sharded(masterOnly ? MasterBytesPerParameter : weightBytes, 3);
        var gradients = Sharded(KeptGradientBytesPerParameter(shardedWeights, reduction), 2);
        var optimizer = Sharded(OptimizerBytesPerParameter - (masterOnly ? MasterBytesPerParameter : 0), 1);

        var layerActivation = LayerKernels.Tokens(job, plan) * model.HiddenSize * ActivationBytes;
        var buffers = 0.0;
        if (plan.TensorParallelism > 1)
        {
            buffers += 2 * layerActivation;
        }

        if (plan.PipelineParallelism > 1)
        {
            buffers += 2 * layerActivation * plan.VirtualStages / (plan.SequenceParallelism ? plan.TensorParallelism : 1);
        }

        if (plan.GradientReplicas > 1)
        {
            buffers += 2 * GradientBucketParameters * reduction.BytesPerElement();
        }

        if (plan.ContextParallelism > 1)
        {
            buffers += plan.ContextCommunication switch
            {
                // The whole sequence's keys and values, gathered, and in the backward pass their gradients.
                ContextCommunication.AllGather => 2 * plan.ContextParallelism * ContextPass.KeyValueBlock(model, job, plan).Count,
                // The head-split queries, keys, values and output of the whole sequence beside the layer's own.
                ContextCommunication.AllToAll => ContextPass.HeadExchange(model, job, plan) is var (inputs, output) ? (inputs + output).Count : 0,
                // Ring attention keeps the key-value block it computes with and the one arriving, and in the backward
                // pass their gradients too.
                _ => 4 * ContextPass.KeyValueBlock(model, job, plan).Count,
            };
        }

        if (plan.ZeroStage >= 3)
        {
            // Two layers' weights gathered at once: the one computing and the one being prefetched (an expert layer's
            // attention, router, shared and local routed experts where it is the larger).
            var gathered = Math.Max(model.DenseLayerCount > 0 ? model.ParametersPerLayerPerRank(plan.TensorParallelism, plan.RanksPerChip) : 0,
                model.ExpertLayerCount > 0 ? model.ExpertLayerSharedParametersPerRank(plan.TensorParallelism, plan.RanksPerChip) + model.ExpertLayerRoutedParametersPerRank(plan.ExpertParallelism) : 0);
            buffers += 2 * gathered * weightBytes;
        }

        return new MemoryBreakdown(Bytes.FromCount(weights), Bytes.FromCount(gradients), Bytes.FromCount(optimizer),
            Bytes.FromCount(activations), Bytes.FromCount(buffers));
    }
}
