using System.Collections.Immutable;

namespace ClusterTwin.Workloads;

/// <summary>The feed-forward block's activation.</summary>
public enum FeedForwardActivation
{
    /// <summary>Two matrices with a GeLU between them (GPT-3, BLOOM, Megatron).</summary>
    Gelu,

    /// <summary>Three matrices: a SiLU-gated linear unit (Llama).</summary>
    SwiGlu,

    /// <summary>Two matrices with a squared ReLU between them (Nemotron): costed as <see cref="Gelu"/>, one elementwise pass.</summary>
    SquaredRelu,
}

/// <summary>How positions enter the model.</summary>
public enum PositionEmbedding
{
    /// <summary>A learned table added to the token embeddings.</summary>
    Learned,

    /// <summary>Rotary embeddings applied to queries and keys.</summary>
    Rotary,

    /// <summary>ALiBi attention biases.</summary>
    Alibi,
}

/// <summary>The normalization layer.</summary>
public enum Normalization
{
    /// <summary>LayerNorm with mean and variance.</summary>
    LayerNorm,

    /// <summary>RMSNorm.</summary>
    RmsNorm,
}

/// <summary>
/// The mixture-of-experts part of a model: feed-forward blocks made of routed experts, of which each token uses a
/// few, beside shared experts every token uses, after a number of leading dense layers.
/// </summary>
/// <param name="Routed">Routed experts per mixture-of-experts layer.</param>
/// <param name="PerToken">Routed experts each token is sent to (top-k).</param>
/// <param name="FeedForwardSize">Inner width of one expert (routed or shared).</param>
/// <param name="Shared">Shared experts every token passes through (DeepSeek); 0 for none.</param>
/// <param name="DenseLayers">Leading layers with the model's dense feed-forward block instead of experts.</param>
/// <param name="RoutingSkew">
/// How much more work the busiest chip's experts get than the statistical balance of random routing gives them,
/// from the model's measured routing; 1 when unknown (balanced routing, what the auxiliary loss aims at).
/// </param>
/// <param name="Interval">
/// After the leading dense layers, every <c>Interval</c>-th layer is a mixture of experts and the others dense (Llama 4
/// Maverick alternates, interval 2: Hugging Face's <c>interleave_moe_layer_step</c>); 1 when every one is.
/// </param>
public sealed record ExpertLayers(int Routed, int PerToken, int FeedForwardSize, int Shared = 0, int DenseLayers = 0, double RoutingSkew = 1, int Interval = 1)
{
    /// <summary>Where <see cref="RoutingSkew"/> comes from: the measured runs and the procedure; null where it is 1 (balanced routing).</summary>
    public string? RoutingSkewDerivation { get; init; }

    /// <summary>
    /// Local experts per chip in the runs <see cref="RoutingSkew"/> was measured at; null where it is 1. Elsewhere the
    /// skew's excess scales as the square root of this over the local experts (<see cref="RoutingSkewAt"/>).
    /// </summary>
    public int? RoutingSkewExpertsPerChip { get; init; }

    /// <summary>
    /// The routing skew with <paramref name="localExperts"/> experts per chip: the busiest chip's load sums its experts'
    /// loads, so if experts are over- or under-used independently its relative excess falls as the square root of
    /// their number. Measured at <see cref="RoutingSkewExpertsPerChip"/>, the skew's excess there is scaled by
    /// <c>sqrt(measured / local)</c>: Qwen3-235B's 1.78 at 16 experts per chip is 1.39 at 64 and 3.2 at 2.
    /// </summary>
    public double RoutingSkewAt(double localExperts) => RoutingSkewExpertsPerChip is { } measured && localExperts > 0
        ? 1 + ((RoutingSkew - 1) * Math.Sqrt(measured / localExperts))
        : RoutingSkew;

    /// <summary>Mixture-of-experts layers among the model's layers <c>[start, start + count)</c>.</summary>
    public int ExpertLayersIn(int start, int count)
    {
        // Layer i is an expert layer when i >= DenseLayers and (i - DenseLayers + 1) is a multiple of the interval.
        var low = Math.Max(start, DenseLayers) - DenseLayers + 1;
        var high = start + count - DenseLayers;
        return high < low ? 0 : (high / Interval) - ((low - 1) / Interval);
    }
}

/// <summary>
/// Multi-head latent attention (DeepSeek-V2 and V3): queries and keys-and-values pass through low-rank latents, and
/// each head's query and key carry a rotary part (the key's shared by all heads) beside the part without positions.
/// Training runs it unabsorbed: the latents are projected up to full heads before attention.
/// </summary>
/// <param name="QueryRank">Width of the query latent (<c>q_lora_rank</c>); 0 for a full-rank query projection.</param>
/// <param name="KeyValueRank">Width of the key-value latent (<c>kv_lora_rank</c>).</param>
/// <param name="RotaryHeadSize">Rotary part of each query and key head (<c>qk_rope_head_dim</c>); the model's head size is the part without positions.</param>
/// <param name="ValueHeadSize">Width of one value head (<c>v_head_dim</c>).</param>
public sealed record LatentAttention(int QueryRank, int KeyValueRank, int RotaryHeadSize, int ValueHeadSize);

/// <summary>How a local-attention layer limits the keys each query sees.</summary>
public enum LocalAttentionKind
{
    /// <summary>Each query attends to the window's last tokens, itself among them (GPT-OSS, Gemma 3).</summary>
    Sliding,

    /// <summary>The sequence is cut into chunks of the window's length, and each query attends within its own chunk (Llama 4).</summary>
    Chunked,
}

/// <summary>
/// Attention limited to nearby tokens on most layers, with every <paramref name="GlobalEvery"/>-th layer attending to the
/// whole context: GPT-OSS alternates 128-token sliding windows with full attention (global every 2), Llama 4 runs
/// 8,192-token chunks on three layers of four (global every 4).
/// </summary>
/// <param name="Kind">Sliding windows or chunks.</param>
/// <param name="Window">Tokens of the window or the chunk.</param>
/// <param name="GlobalEvery">Layer i (from 0) attends to the whole context when i + 1 is a multiple of this.</param>
public sealed record LocalAttention(LocalAttentionKind Kind, int Window, int GlobalEvery)
{
    /// <summary>Layers among <c>[start, start + count)</c> whose attention is local.</summary>
    public int LocalLayersIn(int start, int count) => count - (((start + count) / GlobalEvery) - (start / GlobalEvery));

    /// <summary>
    /// Query-key pairs one sequence of <paramref name="sequence"/> tokens computes under the causal mask on a local
    /// layer, counted as the attention kernels are, half of each causal square (the diagonal ignored): a full causal
    /// layer computes <c>s^2 / 2</c>; a sliding window shorter than the sequence <c>W s - W^2 / 2</c> (the full square's
    /// half less the half beyond the window); whole chunks <c>W^2 / 2</c> each. Both are the full layer's where the
    /// window covers the sequence.
    /// </summary>
    public double CausalPairs(double sequence)
    {
        if (sequence <= Window)
        {
            return sequence * sequence / 2;
        }

        if (Kind == LocalAttentionKind.Sliding)
        {
            return (Window * sequence) - (Window * (double)Window / 2);
        }

        var whole = Math.Floor(sequence / Window);
        var rest = sequence - (whole * Window);
        return ((whole * Window * (double)Window) + (rest * rest)) / 2;
    }

    /// <summary>
    /// Query-key pairs the first <paramref name="tokens"/> queries compute on a local layer counted one by one, each
    /// query's own key included (as serving counts a prefill chunk's): <c>sum min(i, W)</c> for a sliding window, the
    /// earlier tokens of each query's chunk and itself for chunks. <see cref="CausalPairs"/> counts the kernels' half
    /// squares instead.
    /// </summary>
    public double PairsThrough(double tokens)
    {
        double window = Window;
        if (tokens <= window)
        {
            return tokens * (tokens + 1) / 2;
        }

        if (Kind == LocalAttentionKind.Sliding)
        {
            return (window * (window + 1) / 2) + ((tokens - window) * window);
        }

        var whole = Math.Floor(tokens / window);
        var rest = tokens - (whole * window);
        return (whole * window * (window + 1) / 2) + (rest * (rest + 1) / 2);
    }

    /// <summary>The most keys one query of a sequence of <paramref name="sequence"/> tokens sees on a local layer: the window, or the sequence where shorter.</summary>
    public double KeysSeen(double sequence) => Math.Min(sequence, Window);
}

/// <summary>A citation for a model's shape.</summary>
public sealed record ModelSource(string Title, string? Url, string? Date);

/// <summary>A decoder-only transformer, dense or a mixture of experts, described by its shape.</summary>
public sealed record ModelArchitecture
{
    /// <summary>Catalogue id, such as <c>llama3-405b</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>Transformer layers.</summary>
    public required int Layers { get; init; }

    /// <summary>Model (embedding) width.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Query heads.</summary>
    public required int AttentionHeads { get; init; }

    /// <summary>Key and value heads: equal to the query heads for multi-head attention, fewer for grouped-query.</summary>
    public required int KeyValueHeads { get; init; }

    /// <summary>Width of one head.</summary>
    public required int HeadSize { get; init; }

    /// <summary>Inner width of the feed-forward block.</summary>
    public required int FeedForwardSize { get; init; }

    /// <summary>GeLU or SwiGLU.</summary>
    public required FeedForwardActivation Activation { get; init; }

    /// <summary>Vocabulary entries (padded size where the framework pads).</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Learned, rotary or ALiBi.</summary>
    public PositionEmbedding PositionEmbedding { get; init; } = PositionEmbedding.Rotary;

    /// <summary>LayerNorm or RMSNorm.</summary>
    public Normalization Normalization { get; init; } = Normalization.LayerNorm;

    /// <summary>Whether the output head shares the input embedding's weights.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>The mixture-of-experts part, or null for a dense model.</summary>
    public ExpertLayers? MixtureOfExperts { get; init; }

    /// <summary>Multi-head latent attention's shape, or null for (grouped-query) multi-head attention.</summary>
    public LatentAttention? LatentAttention { get; init; }

    /// <summary>Local (sliding-window or chunked) attention on most layers, or null where every layer attends to the whole context.</summary>
    public LocalAttention? LocalAttention { get; init; }

    /// <summary>Layers whose attention is local (<see cref="LocalAttention"/>); 0 where every layer attends to the whole context.</summary>
    public int LocalAttentionLayerCount => LocalAttention?.LocalLayersIn(0, Layers) ?? 0;

    /// <summary>
    /// Multi-token prediction modules after the main model (DeepSeek-V3: one): each embeds the next token, joins it to
    /// the previous depth's output through a projection from twice the hidden width, runs one more transformer layer
    /// and the shared output head. 0 for none.
    /// </summary>
    public int MultiTokenPredictionDepth { get; init; }

    /// <summary>The context length the model was pre-trained with, where known.</summary>
    public int? MaximumSequenceLength { get; init; }

    /// <summary>The headline parameter count the authors publish, to check the shape against.</summary>
    public double? PublishedParameters { get; init; }

    /// <summary>Where the shape comes from.</summary>
    public ImmutableArray<ModelSource> Sources { get; init; } = [];

    /// <summary>Width of one query (and key) head: under latent attention, its part without positions and its rotary part.</summary>
    public int QueryKeyHeadSize => HeadSize + (LatentAttention?.RotaryHeadSize ?? 0);

    /// <summary>Width of one value head.</summary>
    public int ValueHeadSize => LatentAttention?.ValueHeadSize ?? HeadSize;

    /// <summary>Width of all query heads together.</summary>
    public long QueryWidth => (long)AttentionHeads * QueryKeyHeadSize;

    /// <summary>Width of all value heads together: the output projection's input.</summary>
    public long ValueWidth => (long)AttentionHeads * ValueHeadSize;

    /// <summary>Feed-forward weight matrices: two for GeLU, three for SwiGLU.</summary>
    public int FeedForwardMatrices => Activation == FeedForwardActivation.SwiGlu ? 3 : 2;

    /// <summary>Weights of one dense transformer layer (attention, feed-forward, norms; biases ignored).</summary>
    public double ParametersPerLayer => ParametersPerLayerPerRank(1);

    /// <summary>Layers with the dense feed-forward block: all of them in a dense model.</summary>
    public int DenseLayerCount => DenseLayersIn(0, Layers);

    /// <summary>Layers whose feed-forward block is a mixture of experts.</summary>
    public int ExpertLayerCount => Layers - DenseLayerCount;

    /// <summary>How many of the layers <c>[start, start + count)</c> are dense (the leading ones, and between expert layers those the interval skips).</summary>
    public int DenseLayersIn(int start, int count) => count - (MixtureOfExperts?.ExpertLayersIn(start, count) ?? 0);

    /// <summary>
    /// The kind of layer each multi-token prediction module runs: the main model's last layer's (an expert layer in
    /// DeepSeek-V3).
    /// </summary>
    public bool MultiTokenPredictionUsesExperts => MixtureOfExperts is not null && DenseLayersIn(Layers - 1, 1) == 0;

    /// <summary>
    /// Weights of one multi-token prediction module apart from the shared embedding and head: its two norms, the
    /// projection from twice the hidden width, and its transformer layer.
    /// </summary>
    public double MultiTokenPredictionModuleParameters =>
        (2.0 * HiddenSize * HiddenSize) + (4.0 * HiddenSize) +
        (MultiTokenPredictionUsesExperts ? ExpertLayerSharedParametersPerRank(1) + ExpertLayerRoutedParametersPerRank(1) : ParametersPerLayer);

    /// <summary>Weights of one expert (routed or shared): the feed-forward matrices at the expert's width.</summary>
    public double ExpertParameters => MixtureOfExperts is { } experts ? (double)FeedForwardMatrices * HiddenSize * experts.FeedForwardSize : 0;

    /// <summary>
    /// Weights of one mixture-of-experts layer that one rank holds apart from its routed experts: attention split by
    /// tensor parallelism, the router (replicated), the shared experts split by tensor parallelism, and the norms; on a
    /// chip of <paramref name="ranksPerChip"/> ranks, per chip (key-value heads replicated per rank).
    /// </summary>
    public double ExpertLayerSharedParametersPerRank(int tensorParallelism, int ranksPerChip = 1) => MixtureOfExperts is { } experts
        ? AttentionParametersPerRank(tensorParallelism, ranksPerChip) + ((double)HiddenSize * experts.Routed * ranksPerChip) + (experts.Shared * ExpertParameters / tensorParallelism)
        : 0;

    /// <summary>Routed-expert weights of one layer one rank holds when <paramref name="expertParallelism"/> ranks share the experts.</summary>
    public double ExpertLayerRoutedParametersPerRank(int expertParallelism) => MixtureOfExperts is { } experts
        ? (double)experts.Routed / expertParallelism * ExpertParameters
        : 0;

    /// <summary>
    /// Matrix weights one token passes through in one layer's forward pass (what its multiplies cost, two operations
    /// per weight): every weight of a dense layer; attention, router, shared and the token's routed experts of a
    /// mixture-of-experts layer. Norms excluded.
    /// </summary>
    public double ActiveMatrixParameters(bool expertLayer) => expertLayer && MixtureOfExperts is { } experts
        ? AttentionParametersPerRank(1) - (4.0 * HiddenSize) + ((double)HiddenSize * experts.Routed) + ((experts.Shared + experts.PerToken) * ExpertParameters)
        : ParametersPerLayer - (4.0 * HiddenSize);

    /// <summary>
    /// Width of the keys and of the values, on average, one chip of a tensor-parallel group of
    /// <paramref name="tensorParallelism"/> chips holds (keys and values together are twice this), each chip running
    /// <paramref name="ranksPerChip"/> ranks. Past the number of key-value heads, heads are replicated: every rank keeps
    /// at least one (Megatron-LM; NeuronX Distributed's <c>kv_size_multiplier</c>), so a chip of several ranks keeps
    /// one for each. Latent attention projects its latent up to full keys and values per head before attention.
    /// </summary>
    public double KeyValueWidthPerRank(int tensorParallelism, int ranksPerChip = 1) =>
        ranksPerChip * Math.Max((double)KeyValueHeads / (tensorParallelism * ranksPerChip), 1) * (QueryKeyHeadSize + ValueHeadSize) / 2.0;

    /// <summary>
    /// Whether <paramref name="ranks"/> tensor-parallel ranks can share the key-value heads: they split them evenly, or
    /// each keeps one and their count is a multiple of the heads (replication).
    /// </summary>
    public bool SplitsKeyValueHeads(long ranks) => KeyValueHeads % ranks == 0 || ranks % KeyValueHeads == 0;

    /// <summary>The length of a learned position table, which no sequence may pass; null for rotary and ALiBi positions.</summary>
    public int? LearnedPositions => PositionEmbedding == PositionEmbedding.Learned ? MaximumSequenceLength : null;

    /// <summary>Weights of one dense layer held by one chip of a tensor-parallel group (norms replicated), each chip running <paramref name="ranksPerChip"/> ranks.</summary>
    public double ParametersPerLayerPerRank(int tensorParallelism, int ranksPerChip = 1) =>
        AttentionParametersPerRank(tensorParallelism, ranksPerChip) + ((double)FeedForwardMatrices * HiddenSize * FeedForwardSize / tensorParallelism);

    /// <summary>
    /// Attention weights and the two norms of one layer held by one chip of a tensor-parallel group, each chip running
    /// <paramref name="ranksPerChip"/> ranks (see <see cref="KeyValueWidthPerRank"/>). Latent attention's
    /// down-projections (and their norms) are replicated across the group, as Megatron-Core runs them; its
    /// up-projections and output projection are split by heads.
    /// </summary>
    public double AttentionParametersPerRank(int tensorParallelism, int ranksPerChip = 1)
    {
        double hidden = HiddenSize;
        double heads = (double)AttentionHeads / tensorParallelism;
        if (LatentAttention is { } latent)
        {
            // The down-projections and their norms are whole on every rank, so a chip of several ranks holds them each time.
            var query = latent.QueryRank > 0
                ? (((hidden * latent.QueryRank) + latent.QueryRank) * ranksPerChip) + (latent.QueryRank * heads * QueryKeyHeadSize)
                : hidden * heads * QueryKeyHeadSize;
            var keyValue = (((hidden * (latent.KeyValueRank + latent.RotaryHeadSize)) + latent.KeyValueRank) * ranksPerChip) +
                           (latent.KeyValueRank * heads * (HeadSize + ValueHeadSize));
            return query + keyValue + (heads * ValueHeadSize * hidden) + (4.0 * hidden);
        }

        return (hidden * (((double)QueryWidth / tensorParallelism) + (2 * KeyValueWidthPerRank(tensorParallelism, ranksPerChip)))) +
               ((double)ValueWidth / tensorParallelism * hidden) + (4.0 * hidden);
    }

    /// <summary>
    /// Matrix weights one rank of a tensor-parallel group of <c>t</c> holds beyond its 1/t share, on average per layer:
    /// key-value heads replicated past their count (<c>h (qk + v) max(0, 1 - kv/t)</c>: Llama 3 70B's 8 on 16 ranks, one
    /// each, twice the share; nothing for <c>t</c> up to the key-value heads), latent attention's down-projections and
    /// their norms (whole on every rank: <c>(1 - 1/t)</c> of them), and a mixture of experts' router (whole on every
    /// rank, on its expert layers). The layer's two norms are not counted. A chip running <paramref name="ranksPerChip"/>
    /// ranks holds what is whole on every rank once per rank, and replicates key-value heads past <c>t</c> times that.
    /// </summary>
    public double ParametersKeptWholePerRank(int tensorParallelism, int ranksPerChip = 1)
    {
        var attention = AttentionParametersPerRank(tensorParallelism, ranksPerChip) - (AttentionParametersPerRank(1) / tensorParallelism) - (4.0 * HiddenSize * (1 - (1.0 / tensorParallelism)));
        var router = MixtureOfExperts is { } experts ? (double)ExpertLayerCount / Layers * HiddenSize * experts.Routed * (ranksPerChip - (1.0 / tensorParallelism)) : 0;
        // The subtraction leaves round-off where nothing is replicated.
        return Math.Max(0, attention) + router;
    }

    /// <summary>Weights of the input embedding (and the position table when learned).</summary>
    public double EmbeddingParameters =>
        ((double)VocabularySize * HiddenSize) + (PositionEmbedding == PositionEmbedding.Learned ? (double)(MaximumSequenceLength ?? 0) * HiddenSize : 0);

    /// <summary>Weights of the output head, zero when tied to the embedding.</summary>
    public double OutputHeadParameters => TiedEmbeddings ? 0 : (double)VocabularySize * HiddenSize;

    /// <summary>All weights of the main model (the multi-token prediction modules apart, as the published counts give them).</summary>
    public double Parameters => (DenseLayerCount * ParametersPerLayer) +
        (ExpertLayerCount * (ExpertLayerSharedParametersPerRank(1) + ExpertLayerRoutedParametersPerRank(1))) +
        EmbeddingParameters + OutputHeadParameters + (2.0 * HiddenSize);

    /// <summary>Weights one token passes through (the activated parameters a mixture of experts is named by).</summary>
    public double ActiveParameters => (DenseLayerCount * ParametersPerLayer) +
        (ExpertLayerCount * (ActiveMatrixParameters(expertLayer: true) + (4.0 * HiddenSize))) +
        EmbeddingParameters + OutputHeadParameters + (2.0 * HiddenSize);

    /// <inheritdoc />
    public bool Equals(ModelArchitecture? other) => other is not null && Id == other.Id && Name == other.Name && Layers == other.Layers &&
        HiddenSize == other.HiddenSize && AttentionHeads == other.AttentionHeads && KeyValueHeads == other.KeyValueHeads &&
        HeadSize == other.HeadSize && FeedForwardSize == other.FeedForwardSize && Activation == other.Activation &&
        VocabularySize == other.VocabularySize && PositionEmbedding == other.PositionEmbedding && Normalization == other.Normalization &&
        TiedEmbeddings == other.TiedEmbeddings && MaximumSequenceLength == other.MaximumSequenceLength && MixtureOfExperts == other.MixtureOfExperts &&
        PublishedParameters == other.PublishedParameters && LatentAttention == other.LatentAttention &&
        MultiTokenPredictionDepth == other.MultiTokenPredictionDepth && LocalAttention == other.LocalAttention && Sources.SequenceEqual(other.Sources);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Id, Layers, HiddenSize);
}
