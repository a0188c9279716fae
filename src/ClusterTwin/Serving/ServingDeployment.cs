using ClusterTwin.Hardware;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Serving;

/// <summary>
/// A model served on a cluster: replicas of one tensor-parallel group each, with the batching limits a server such
/// as vLLM, SGLang or TensorRT-LLM is configured with.
/// </summary>
public sealed record ServingDeployment
{
    /// <summary>The hardware: all replicas together.</summary>
    public required Cluster Cluster { get; init; }

    /// <summary>The chip family's efficiency curves.</summary>
    public required ChipEfficiency Efficiency { get; init; }

    /// <summary>The model served.</summary>
    public required ModelArchitecture Model { get; init; }

    /// <summary>Chips of one replica's tensor-parallel group.</summary>
    public required int TensorParallelism { get; init; }

    /// <summary>
    /// Pipeline stages of one replica, each holding its share of the layers on a tensor-parallel group. A replica of
    /// <c>p</c> stages keeps <c>p</c> batches in flight, one per stage (vLLM's virtual engines): the simulation runs
    /// them as <c>p</c> replicas, each iterating through every stage in turn.
    /// </summary>
    public int PipelineParallelism { get; init; } = 1;

    /// <summary>Chips of one replica: the tensor group times the stages.</summary>
    public int ChipsPerReplica => TensorParallelism * PipelineParallelism;

    /// <summary>
    /// Whether the replica's group serves a mixture of experts with data-parallel attention and expert parallelism
    /// (SGLang's <c>--enable-dp-attention</c> with expert parallelism, as DeepSeek serves V3): each chip runs attention,
    /// the dense layers and the head whole for its own share of the requests and holds their key-value cache, the
    /// routed experts are split across the chips, and each expert layer dispatches its tokens to their experts and
    /// combines them back with two all-to-alls. False: every layer is split by tensor parallelism.
    /// </summary>
    public bool ExpertParallel { get; init; }

    /// <summary>
    /// Chips of a replica's tensor group that each run their own requests: the group's with expert parallelism (each
    /// schedules, caches and runs the attention of its own), else 1 (the group runs every request together).
    /// </summary>
    public int ExpertParallelism => ExpertParallel ? TensorParallelism : 1;

    /// <summary>Whole replicas of the cluster, each <see cref="ChipsPerReplica"/> chips (the scheduler runs a pipelined one as one per stage: <see cref="Replicas"/>).</summary>
    public long WholeReplicas => Cluster.ChipCount / ChipsPerReplica;

    /// <summary>The format of the matrix multiplies (and of the weights, unless <see cref="WeightBytesPerElement"/> says otherwise).</summary>
    public required NumberFormat WeightFormat { get; init; }

    /// <summary>
    /// Bytes per stored weight: the multiply format's by default, fewer for weights stored narrower than they are
    /// multiplied (INT8 weights dequantized to BF16, as AWS Neuron's weight-only quantization does).
    /// </summary>
    public double? StoredWeightBytesPerElement { get; init; }

    /// <summary>Bytes per stored weight.</summary>
    public double WeightBytesPerElement => StoredWeightBytesPerElement ?? WeightFormat.BytesPerElement;

    /// <summary>Bytes per element of the key-value cache (2 for BF16, 1 for FP8).</summary>
    public required double KeyValueBytesPerElement { get; init; }

    /// <summary>Most requests a replica runs at once (vLLM's max_num_seqs).</summary>
    public required int MaximumBatch { get; init; }

    /// <summary>Most tokens one iteration processes, decode and prefill chunks together (vLLM's max_num_batched_tokens).</summary>
    public required int MaximumBatchTokens { get; init; }

    /// <summary>The share of each chip's memory the server may use for weights and the cache (vLLM's gpu_memory_utilization).</summary>
    public required double MemoryUtilization { get; init; }

    /// <summary>
    /// Time each request spends in the server's front end (HTTP, tokenization, the scheduler's first look) outside the
    /// chips: added to its time to first token and end-to-end latency; the framework's, fitted to published runs.
    /// </summary>
    public Duration RequestOverhead { get; init; }

    /// <summary>
    /// The front end's time that ninety-nine requests in a hundred stay within, where it spreads (log-normal from
    /// <see cref="RequestOverhead"/>, its median); null: every request spends the median.
    /// </summary>
    public Duration? RequestOverheadP99 { get; init; }

    /// <summary>The front end's time as a distribution.</summary>
    public FrontEnd FrontEnd => new(RequestOverhead, RequestOverheadP99 ?? RequestOverhead);

    /// <summary>
    /// Time each layer adds to every iteration beyond its roofline: the kernel launches, synchronizations and
    /// small-message collective latencies that bind decoding at small batches; the framework's, fitted to published
    /// runs (docs/serving.md).
    /// </summary>
    public Duration LayerOverhead { get; init; }

    /// <summary>
    /// Decode iterations a replica runs per scheduling decision (vLLM's --num-scheduler-steps): new requests wait
    /// for the block to end, and its tokens reach the client together at its end.
    /// </summary>
    public int SchedulerSteps { get; init; } = 1;

    /// <summary>
    /// The share of each request's output whose cache the scheduler sets aside when it admits the request: 0 admits
    /// on the prompt alone and preempts when the cache runs out (vLLM), 1 reserves the whole output and never
    /// preempts (TensorRT-LLM's guaranteed-no-evict), between them an expected share (SGLang's new-token ratio).
    /// </summary>
    public double OutputReservation { get; init; }

    /// <summary>The serving framework whose settings and overhead the deployment took, where it names one.</summary>
    public ServingFramework? Framework { get; init; }

    /// <summary>
    /// Whether one iteration decodes the running requests and prefills new ones together (TensorRT-LLM's in-flight
    /// batching, vLLM's chunked prefill), or a prefill iteration runs alone and the running requests wait for it
    /// (vLLM without chunked prefill, SGLang 0.3).
    /// </summary>
    public bool MixedBatches { get; init; } = true;

    /// <summary>Speculative decoding, where the deployment drafts and verifies; null for one token per iteration.</summary>
    public Speculation? Speculation { get; init; }

    /// <summary>
    /// A factor on the multiplies' compute rate against the chip family's training-calibrated curves: a serving
    /// framework's own matrix kernels (TensorRT-LLM's FP8 GEMMs, Neuron's context encoding) may run faster or slower
    /// than the training frameworks' the curves were fitted to. The framework's, fitted to published runs.
    /// </summary>
    public double MatrixScale { get; init; } = 1;

    /// <summary>A factor on every iteration's time: 1 for the prediction, the band's ends for its range.</summary>
    public double IterationScale { get; init; } = 1;

    /// <summary>
    /// Replicas as the scheduler sees them: the cluster's chips over the tensor-parallel degree (a pipelined replica
    /// counts once per stage, one batch in flight each).
    /// </summary>
    public long Replicas => Cluster.ChipCount / TensorParallelism;

    /// <summary>
    /// Weights one chip of a replica holds: every layer and the vocabulary split across the tensor group, with the
    /// weights each chip keeps whole (key-value heads replicated past their count, latent down-projections, the router),
    /// and the draft model's where the deployment speculates; with expert parallelism everything whole but the routed
    /// experts, split across the group.
    /// </summary>
    public Bytes WeightsPerChip => Bytes.FromCount((WeightsPerChipOf(Model) + (Speculation is { } speculation ? WeightsPerChipOf(speculation.Draft) : 0)) * WeightBytesPerElement);

    /// <summary>The served model's weights one chip holds (<see cref="WeightsPerChip"/> without a speculative draft's).</summary>
    public Bytes ModelWeightsPerChip => Bytes.FromCount(WeightsPerChipOf(Model) * WeightBytesPerElement);

    /// <summary>
    /// Weights of <paramref name="model"/> one chip holds: its share, and what it keeps whole or pads on its stage's
    /// layers; with expert parallelism, everything whole but its share of the routed experts.
    /// </summary>
    private double WeightsPerChipOf(ModelArchitecture model) => ExpertParallel
        ? model.Parameters - (model.ExpertLayerCount * (model.ExpertLayerRoutedParametersPerRank(1) - model.ExpertLayerRoutedParametersPerRank(TensorParallelism)))
        : (model.Parameters / ChipsPerReplica) + (model.Layers / (double)PipelineParallelism * (model.ParametersKeptWholePerRank(TensorParallelism, Cluster.Chip.Ranks) + PaddedHeadParametersPerLayer(model)));

    /// <summary>
    /// Query heads of <paramref name="model"/> one chip holds: its share of the heads, or, where the framework pads them
    /// (<see cref="ServingFramework.PadsHeads"/>), the heads rounded up to a multiple of the tensor group's ranks
    /// (Llama 3 70B's 64 over 24 NeuronCores: 3 each, 72 in all). Latent attention is not padded. With expert
    /// parallelism each chip runs all the heads of its own requests.
    /// </summary>
    public double QueryHeadsPerChip(ModelArchitecture model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var ranks = (long)TensorParallelism * Cluster.Chip.Ranks;
        return ExpertParallel ? model.AttentionHeads
            : Framework?.PadsHeads == true && model.LatentAttention is null
            ? Math.Ceiling(model.AttentionHeads / (double)ranks) * Cluster.Chip.Ranks
            : model.AttentionHeads / (double)TensorParallelism;
    }

    /// <summary>The query and output projection weights per layer that padding the heads adds to one chip of <paramref name="model"/>.</summary>
    public double PaddedHeadParametersPerLayer(ModelArchitecture model) => ExpertParallel ? 0 :
        (QueryHeadsPerChip(model) - (model.AttentionHeads / (double)TensorParallelism)) * (model.QueryKeyHeadSize + model.ValueHeadSize) * model.HiddenSize;

    /// <summary>
    /// Why the tensor degree cannot serve the model, or its speculative draft, which runs at the same degree: the ranks
    /// neither divide the attention heads (where they are not padded: the framework does not pad, or the model has
    /// latent attention) nor divide or are a multiple of the key-value heads; null when they can.
    /// </summary>
    public string? HeadSplitProblem() => HeadSplitProblem(Model) ?? (Speculation is { } speculation ? HeadSplitProblem(speculation.Draft) : null);

    private string? HeadSplitProblem(ModelArchitecture model)
    {
        if (ExpertParallel)
        {
            return null;
        }

        var ranks = (long)TensorParallelism * Cluster.Chip.Ranks;
        var degree = Cluster.Chip.Ranks > 1 ? $"tensor {TensorParallelism} ({ranks} ranks)" : $"tensor {TensorParallelism}";
        var padded = Framework?.PadsHeads == true && model.LatentAttention is null;
        if (!padded && model.AttentionHeads % ranks != 0)
        {
            return $"{degree} does not divide the {model.AttentionHeads} attention heads of {model.Name}: vLLM, SGLang and TensorRT-LLM refuse it (a framework with pads_heads, such as Transformers NeuronX, pads them; not under latent attention)";
        }

        return model.LatentAttention is null && !model.SplitsKeyValueHeads(ranks)
            ? $"{degree} neither divides nor is a multiple of the {model.KeyValueHeads} key-value heads of {model.Name}"
            : null;
    }

    /// <summary>
    /// Why a serving pool cannot run expert parallelism of <paramref name="expert"/> (data-parallel attention across
    /// the replica's tensor group, the routed experts split over it); null when it can.
    /// </summary>
    public static string? ExpertParallelProblem(ModelArchitecture? model, int tensor, int pipeline, int expert, bool speculating) => model switch
    {
        null => null,
        { MixtureOfExperts: null } => $"{model.Name} is not a mixture of experts: expert parallelism splits routed experts (expert: 1)",
        _ when expert < 2 => "expert parallelism needs a tensor group of at least two chips to split the experts over",
        { MixtureOfExperts: { } experts } when experts.Routed % expert != 0 => $"expert {expert} does not divide the {experts.Routed} routed experts of {model.Name}",
        _ when expert != tensor => $"expert {expert} with tensor {tensor}: expert parallelism spans the replica's tensor group, with attention data-parallel across it, so expert equals tensor (other splits are not modelled)",
        _ when pipeline > 1 => "expert parallelism with pipeline stages is not modelled: pipeline 1",
        _ when speculating => "speculative decoding with expert parallelism is not modelled",
        _ => null,
    };

    /// <summary>
    /// Key-value cache one token occupies on one chip: keys and values of every layer for the chip's share of the
    /// key-value heads (at least one head; latent attention keeps its compressed latent, replicated on every chip);
    /// with expert parallelism, a token's whole cache on the one chip that runs its request's attention.
    /// </summary>
    public Bytes KeyValuePerTokenPerChip => ExpertParallel ? KeyValuePerToken : CachePerToken(Model, TensorParallelism, Cluster.Chip.Ranks);

    /// <summary>Key-value cache one token occupies in the whole replica, once (what moves when a request changes replica).</summary>
    public Bytes KeyValuePerToken => CachePerToken(Model, 1, 1);

    /// <summary>
    /// Tokens of key-value cache a replica holds: the memory left after the weights, within the utilization (the
    /// draft's cache beside the target's). A stage's chips hold their layers' share of every token of the stage's
    /// batches in flight, so each of a pipelined replica's batches gets the memory over the whole model's cache per chip.
    /// With expert parallelism each chip holds its own requests' tokens whole, so the replica holds its chips' sum.
    /// </summary>
    public long KeyValueCapacityTokens => KeyValueCapacityPerRequest * ExpertParallelism;

    /// <summary>
    /// The most cache one request can hold: the replica's, or with expert parallelism one chip's, where the request's
    /// attention runs (what a prompt, or a whole context, must fit to be served).
    /// </summary>
    public long KeyValueCapacityPerRequest => CacheHeld(KeyValuePerTokenPerChip + (Speculation is { } speculation ? CachePerToken(speculation.Draft, TensorParallelism, Cluster.Chip.Ranks) : Bytes.Zero));

    /// <summary>
    /// How the cache grows with a request's tokens: local-attention layers (<see cref="ModelArchitecture.LocalAttention"/>)
    /// keep at most their window. With speculative decoding every layer's cache is counted whole, an upper bound (the
    /// draft's cache, beside the target's, is counted per token); attention still reads at most the window.
    /// </summary>
    public CacheLayout CacheLayout => CacheLayout.Of(Speculation is null ? Model : Model with { LocalAttention = null });

    /// <summary>
    /// <see cref="KeyValueCapacityPerRequest"/> in the units of <see cref="CacheLayout"/>: tokens, or layer-tokens
    /// where local layers keep at most their window.
    /// </summary>
    public long KeyValueCapacityUnitsPerRequest => CacheLayout.UnitsPerToken is var units && units == 1 ? KeyValueCapacityPerRequest : CacheHeld(KeyValuePerTokenPerChip / units);

    /// <summary>Cache units (<see cref="CacheLayout"/>) a replica holds: <see cref="KeyValueCapacityTokens"/> in its units.</summary>
    public long KeyValueCapacityUnits => KeyValueCapacityUnitsPerRequest * ExpertParallelism;

    /// <summary>
    /// Most requests a replica runs at once: <see cref="MaximumBatch"/>, or with expert parallelism that many on each
    /// chip, whose data-parallel attention schedules its own (SGLang's data-parallel attention ranks).
    /// </summary>
    public int ReplicaBatch => (int)Math.Min(int.MaxValue, (long)MaximumBatch * ExpertParallelism);

    /// <summary>Most tokens one iteration of a replica processes: <see cref="MaximumBatchTokens"/>, or with expert parallelism that many on each chip.</summary>
    public int ReplicaBatchTokens => (int)Math.Min(int.MaxValue, (long)MaximumBatchTokens * ExpertParallelism);

    /// <summary>How many units of <paramref name="perUnit"/> bytes each fit in one chip's memory left after the weights, within the utilization.</summary>
    private long CacheHeld(Bytes perUnit)
    {
        var free = (Cluster.Chip.MemoryCapacity.Value * MemoryUtilization) - WeightsPerChip;
        return free.Count <= 0 ? 0 : (long)Math.Floor(free / perUnit);
    }

    /// <summary>The cache of one token on one chip of a tensor group of <paramref name="tensor"/> chips, each running <paramref name="ranks"/> ranks (key-value heads replicated per rank).</summary>
    private Bytes CachePerToken(ModelArchitecture model, int tensor, int ranks) => Bytes.FromCount(model.Layers * KeyValueBytesPerElement *
        (model.LatentAttention is { } latent ? latent.KeyValueRank + latent.RotaryHeadSize : 2 * model.KeyValueWidthPerRank(tensor, ranks)));
}

/// <summary>
/// Speculative decoding with a draft model (Leviathan et al. 2023): each decode iteration the draft proposes
/// <paramref name="DraftTokens"/> tokens one after another, and the target verifies them in one pass over
/// <paramref name="DraftTokens"/> + 1 positions; each proposed token is accepted with probability
/// <paramref name="Acceptance"/>, independently, up to the first rejection, and the target adds one token of its own.
/// </summary>
/// <param name="Draft">The draft model, served on the same chips and tensor degree.</param>
/// <param name="DraftTokens">Tokens proposed per iteration.</param>
/// <param name="Acceptance">The chance each proposed token is accepted.</param>
public sealed record Speculation(ModelArchitecture Draft, int DraftTokens, double Acceptance)
{
    /// <summary>Tokens one iteration yields on average: (1 - a^(k+1)) / (1 - a), between 1 and k + 1.</summary>
    public double ExpectedTokens => Acceptance >= 1 ? DraftTokens + 1 : (1 - Math.Pow(Acceptance, DraftTokens + 1)) / (1 - Acceptance);
}
