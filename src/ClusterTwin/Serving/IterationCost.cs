using ClusterTwin.Hardware;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>What one serving iteration of a replica does: decode one token for some requests, prefill chunks of others.</summary>
/// <param name="DecodeTokens">Requests decoding one token each.</param>
/// <param name="DecodeContext">Tokens of key-value cache the decoding requests read, together.</param>
/// <param name="PrefillTokens">Prompt tokens prefilled in this iteration.</param>
/// <param name="PrefillPairs">Query-key pairs the prefill's causal attention scores (each chunk token against its context).</param>
/// <param name="SampledTokens">Tokens whose logits are computed: every decode, and each prompt whose last chunk this is.</param>
/// <param name="LargestChunk">
/// The largest one request's prefill chunk, and its query-key pairs: what one chip runs alone where each request's
/// attention runs on one chip (<see cref="ServingDeployment.ExpertParallel"/>); zero where not given.
/// </param>
/// <param name="LargestChunkPairs">The query-key pairs of <paramref name="LargestChunk"/>.</param>
public readonly record struct Iteration(int DecodeTokens, double DecodeContext, int PrefillTokens, double PrefillPairs, int SampledTokens, int LargestChunk = 0, double LargestChunkPairs = 0)
{
    /// <summary>Tokens through the layers' multiplies.</summary>
    public int Tokens => DecodeTokens + PrefillTokens;
}

/// <summary>The time and work of one iteration on one replica.</summary>
/// <param name="Time">The iteration's time.</param>
/// <param name="Work">FLOPs the replica's chips execute together.</param>
/// <param name="MemoryTraffic">HBM bytes the replica's chips move together.</param>
/// <param name="LinkTraffic">Bytes the replica's chips send together.</param>
/// <param name="Bf16Work">
/// The part of <paramref name="Work"/> a low-precision format runs at the BF16 rate (fused attention, prefill and
/// decode), which costs BF16's energy per FLOP; zero in BF16.
/// </param>
public readonly record struct IterationWork(Duration Time, Flops Work, Bytes MemoryTraffic, Bytes LinkTraffic, Flops Bf16Work = default);

/// <summary>
/// Costs a serving iteration on one replica by roofline, as the training step is costed: each layer's multiplies read
/// their weights once for every token of the batch (memory-bound at small batches, compute-bound at large), decode
/// attention reads each request's key-value cache, prefill attention scores its causal pairs, and a tensor-parallel
/// replica all-reduces each layer's output twice; with expert parallelism the chips split the requests and the
/// routed experts instead, exchanging tokens by all-to-all (docs/serving.md).
/// </summary>
public sealed class IterationCost
{
    private readonly ServingDeployment deployment;
    private readonly KernelCost kernels;
    private readonly CollectiveCost collectives;
    private readonly CommunicationGroup tensorGroup;
    private readonly int layers;
    private readonly double matrixParametersPerLayer;
    private readonly Bytes weightsPerLayer;
    private readonly double routedExpertBytesPerLayer;
    private readonly double attentionFlopsPerPair;
    private readonly Bytes keyValuePerToken;
    private readonly double headParameters;
    private readonly IterationCost? draft;
    private readonly Duration stageLatency;
    private readonly Bandwidth stageBandwidth;
    private readonly int verified;
    private readonly bool lowPrecision;
    private readonly ExpertParallelLayers? expertParallel;

    /// <summary>Prepares the costs of <paramref name="deployment"/>'s replicas.</summary>
    public IterationCost(ServingDeployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        this.deployment = deployment;
        var chip = deployment.Cluster.Chip;
        var precision = deployment.WeightFormat.Precision;
        var peak = chip.PeakRate(precision) ?? throw new ArgumentException($"the {chip.Name} has no {precision.Key()} rate", nameof(deployment));
        var bf16Peak = chip.PeakRate(Precision.Bf16) is { } bf16 && bf16 < peak ? bf16 : peak;
        // The framework's multiplies against the training-calibrated curves: its own kernels may run faster or slower.
        // Under a low-precision format attention runs at the BF16 rate, and costs BF16's energy.
        lowPrecision = bf16Peak < peak;
        kernels = new KernelCost(peak * deployment.MatrixScale, bf16Peak, chip.MemoryBandwidth.Value, deployment.Efficiency);
        collectives = new CollectiveCost(deployment.Cluster, deployment.Efficiency);
        tensorGroup = GroupPlacement.Place(deployment.Cluster, deployment.TensorParallelism, 1);
        var model = deployment.Model;
        var tensor = deployment.TensorParallelism;
        layers = model.Layers;
        var active = (model.DenseLayerCount * model.ActiveMatrixParameters(expertLayer: false)) + (model.ExpertLayerCount * model.ActiveMatrixParameters(expertLayer: true));
        // Weights each chip holds beyond its 1/tensor share (replicated key-value heads, latent down-projections, the router).
        var replicated = model.ParametersKeptWholePerRank(tensor, chip.Ranks);
        var padded = deployment.PaddedHeadParametersPerLayer(model);
        matrixParametersPerLayer = (active / layers / tensor) + replicated + padded;
        // Weights read per layer: every weight the chip holds in it; a mixture of experts' routed experts apart, read
        // only where the batch reaches them (see WeightsRead).
        var routed = model.ExpertLayerCount * model.ExpertLayerRoutedParametersPerRank(1);
        weightsPerLayer = Bytes.FromCount((((model.Parameters - model.EmbeddingParameters - model.OutputHeadParameters - routed) / layers / tensor) + replicated + padded) * deployment.WeightBytesPerElement);
        routedExpertBytesPerLayer = model.ExpertLayerCount * model.ExpertParameters / layers / tensor * deployment.WeightBytesPerElement;
        attentionFlopsPerPair = 2.0 * deployment.QueryHeadsPerChip(model) * (model.QueryKeyHeadSize + model.ValueHeadSize);
        keyValuePerToken = deployment.KeyValuePerTokenPerChip / layers;
        // Split by the tensor group, or whole on each chip under expert parallelism (each runs its own requests' head).
        headParameters = (double)model.VocabularySize * model.HiddenSize / (deployment.ExpertParallel ? 1 : tensor);

        // A pipelined replica hands each batch's activations from stage to stage: over scale-up within a system,
        // over scale-out when the replica spans systems.
        var system = deployment.Cluster.System;
        var withinSystem = deployment.ChipsPerReplica <= system.Chips.Value;
        stageLatency = deployment.Cluster.SendLatency(acrossSystems: !withinSystem);
        stageBandwidth = withinSystem ? system.ScaleUpBandwidth.Value.PerDirection : system.ScaleOutBandwidth?.Value ?? system.ScaleUpBandwidth.Value.PerDirection;
        if (deployment.ExpertParallel)
        {
            var experts = model.MixtureOfExperts ?? throw new ArgumentException($"expert parallelism needs a mixture of experts; {model.Name} has none", nameof(deployment));
            // Whole on every chip: attention's projections (norms apart), a dense layer's feed-forward, an expert
            // layer's router and shared experts; split: the routed experts, E/t a chip.
            var attention = model.AttentionParametersPerRank(1) - (4.0 * model.HiddenSize);
            expertParallel = new ExpertParallelLayers(
                Dense: attention + ((double)model.FeedForwardMatrices * model.HiddenSize * model.FeedForwardSize),
                ExpertShared: attention + ((double)model.HiddenSize * experts.Routed) + (experts.Shared * model.ExpertParameters),
                Expert: model.ExpertParameters,
                LocalExperts: experts.Routed / (double)tensor,
                Routed: experts.Routed,
                PerToken: experts.PerToken,
                Skew: tensor > 1 ? experts.RoutingSkewAt(experts.Routed / (double)tensor) : 1);
        }
        if (deployment.Speculation is { } speculation)
        {
            draft = new IterationCost(deployment with { Model = speculation.Draft, Speculation = null });
            verified = speculation.DraftTokens + 1;
        }
        else
        {
            verified = 1;
        }
    }

    /// <summary>The time and work of <paramref name="iteration"/>.</summary>
    public IterationWork Of(Iteration iteration)
    {
        if (iteration.Tokens == 0)
        {
            return default;
        }

        // Speculating, each decoding request verifies the draft's tokens and one of its own in a single pass: more
        // tokens through the multiplies and the head, more queries against the same cache; the draft proposes them
        // one after another beforehand, and prefills the prompts beside the target.
        var target = Target(iteration with { DecodeTokens = iteration.DecodeTokens * verified, SampledTokens = iteration.SampledTokens + (iteration.DecodeTokens * (verified - 1)) }, iteration.DecodeTokens);
        if (draft is null)
        {
            return target;
        }

        var proposals = iteration.DecodeTokens > 0 ? draft.Target(new Iteration(iteration.DecodeTokens, iteration.DecodeContext, 0, 0, iteration.DecodeTokens), iteration.DecodeTokens) : default;
        var prompts = iteration.PrefillTokens > 0 ? draft.Target(iteration with { DecodeTokens = 0, DecodeContext = 0, SampledTokens = 0 }, 0) : default;
        var drafts = verified - 1;
        return new IterationWork(
            target.Time + (proposals.Time * drafts) + prompts.Time,
            target.Work + (proposals.Work * drafts) + prompts.Work,
            target.MemoryTraffic + (proposals.MemoryTraffic * drafts) + prompts.MemoryTraffic,
            target.LinkTraffic + (proposals.LinkTraffic * drafts) + prompts.LinkTraffic,
            target.Bf16Work + (proposals.Bf16Work * drafts) + prompts.Bf16Work);
    }

    /// <summary>
    /// Weights one chip reads per layer for a batch of <paramref name="tokens"/>: the dense weights, and of a mixture
    /// of experts only the routed experts some token reaches. With E experts and k per token routed uniformly, a batch
    /// reaches E (1 - (1 - k/E)^tokens) of them on average: a few at decode's small batches, all at prefill's. The
    /// group's chips share the reached experts' reads (split by tensor; expert parallelism is costed apart).
    /// </summary>
    private Bytes WeightsRead(int tokens)
    {
        if (deployment.Model.MixtureOfExperts is not { } experts)
        {
            return weightsPerLayer;
        }

        var reached = experts.Routed * (1 - Math.Pow(1 - ((double)experts.PerToken / experts.Routed), tokens));
        return weightsPerLayer + Bytes.FromCount(routedExpertBytesPerLayer * reached);
    }

    /// <summary>One pass of this cost's model over <paramref name="iteration"/>; <paramref name="requests"/> decoding requests read their caches once each.</summary>
    private IterationWork Target(Iteration iteration, int requests)
    {
        var tokens = iteration.Tokens;
        if (tokens == 0)
        {
            return default;
        }

        if (expertParallel is { } split)
        {
            return ExpertParallelTarget(iteration, requests, split);
        }

        var model = deployment.Model;
        var bytes = deployment.WeightBytesPerElement;
        var activations = Activations(tokens);
        var matrixWork = Flops.FromOperations(2 * matrixParametersPerLayer * tokens);
        var matrixTraffic = WeightsRead(tokens) + activations;
        var matrix = kernels.Time(KernelKind.Matrix, matrixWork, matrixTraffic);

        var (decodeWork, decodeTraffic, prefillWork, prefillTraffic) = AttentionWork(iteration, requests);
        var decode = AttentionTime(decodeWork, decodeTraffic, iteration.DecodeTokens);
        var prefill = AttentionTime(prefillWork, prefillTraffic, iteration.PrefillTokens);

        var message = Bytes.FromCount(tokens * model.HiddenSize * 2.0);
        var allReduce = deployment.TensorParallelism > 1 ? collectives.Time(CollectiveKind.AllReduce, tensorGroup, message) * 2 : Duration.Zero;

        var headWork = Flops.FromOperations(2 * headParameters * iteration.SampledTokens);
        var headTraffic = Bytes.FromCount(headParameters * bytes);
        var head = iteration.SampledTokens > 0 ? kernels.Time(KernelKind.Matrix, headWork, headTraffic) : Duration.Zero;

        var perLayer = matrix + decode + prefill + allReduce + deployment.LayerOverhead;
        var chips = deployment.TensorParallelism;
        var work = ((matrixWork + decodeWork + prefillWork) * layers + headWork) * chips;
        var traffic = ((matrixTraffic + decodeTraffic + prefillTraffic) * layers + headTraffic) * chips;
        var sent = deployment.TensorParallelism > 1 ? message * (4.0 * (chips - 1) / chips * layers * chips) : Bytes.Zero;
        var stages = deployment.PipelineParallelism - 1;
        // Each of the tensor group's chips hands its slice of the activations to its counterpart in the next stage.
        var handOffs = stages > 0 ? (stageLatency + (message / deployment.TensorParallelism / stageBandwidth)) * stages : Duration.Zero;
        return new IterationWork((((perLayer * layers) + head) * deployment.IterationScale) + handOffs, work, traffic, sent + (message * stages), lowPrecision ? (decodeWork + prefillWork) * layers * chips : Flops.Zero);
    }

    /// <summary>Activations one chip reads and writes in one layer for <paramref name="tokens"/> tokens (BF16, four passes).</summary>
    private Bytes Activations(double tokens) => Bytes.FromCount(tokens * deployment.Model.HiddenSize * 2.0 * 4);

    /// <summary>
    /// Attention's work and traffic in one layer for every request of <paramref name="iteration"/>, on each chip that
    /// holds its heads of them: decode reads each decoding request's cache (<paramref name="requests"/> of them), and
    /// prefill scores its causal pairs and writes the prompts' keys and values.
    /// </summary>
    private (Flops DecodeWork, Bytes DecodeTraffic, Flops PrefillWork, Bytes PrefillTraffic) AttentionWork(Iteration iteration, int requests) => (
        Flops.FromOperations(attentionFlopsPerPair * iteration.DecodeContext * (requests > 0 ? iteration.DecodeTokens / (double)requests : 0)),
        keyValuePerToken * iteration.DecodeContext,
        Flops.FromOperations(attentionFlopsPerPair * iteration.PrefillPairs),
        keyValuePerToken * (iteration.PrefillTokens * 2.0));

    /// <summary>The time of attention's <paramref name="work"/> and <paramref name="traffic"/> on one chip; zero where it has no <paramref name="tokens"/>.</summary>
    private Duration AttentionTime(Flops work, Bytes traffic, int tokens) =>
        tokens > 0 ? kernels.Time(KernelKind.FusedAttention, work, traffic, headSize: new AttentionHeadSize(deployment.Model.QueryKeyHeadSize, deployment.Model.ValueHeadSize)) : Duration.Zero;

    /// <summary>
    /// One pass with data-parallel attention and expert parallelism (<see cref="ServingDeployment.ExpertParallel"/>).
    /// Each request's attention, dense layers and head run on one of the group's t chips with whole weights, reading its
    /// own cache; each expert layer sends every token to its k experts and back (two all-to-alls of its k copies), and
    /// each chip runs its E/t experts on the tokens routed to them, reading those of its experts the whole batch
    /// reaches. The iteration waits for its busiest chip: the one prefilling the largest prompt chunk beside its share
    /// of the decodes, or the one with the most decodes (requests are whole on a chip, so one prompt is never split);
    /// and the chip whose experts receive the most tokens: the model's routing skew at E/t local experts times the
    /// spread of random routing, as a training step takes it (<see cref="LayerKernels.LoadImbalance"/>). Work and
    /// traffic are the whole group's.
    /// </summary>
    private IterationWork ExpertParallelTarget(Iteration iteration, int requests, ExpertParallelLayers split)
    {
        var model = deployment.Model;
        var chips = deployment.TensorParallelism;
        var bytes = deployment.WeightBytesPerElement;
        var tokens = iteration.Tokens;
        var (decodes, prompts) = (iteration.DecodeTokens, iteration.PrefillTokens);
        var mostDecodes = Math.Ceiling(decodes / (double)chips);
        var busiest = Math.Max(iteration.LargestChunk + (decodes / (double)chips), mostDecodes + (prompts / (double)chips));
        var promptShare = prompts > 0 ? Math.Max(1.0 / chips, iteration.LargestChunk / (double)prompts) : 0;
        var pairShare = iteration.PrefillPairs > 0 ? Math.Max(1.0 / chips, iteration.LargestChunkPairs / iteration.PrefillPairs) : 0;
        var decodeShare = decodes > 0 ? mostDecodes / decodes : 0;
        var denseTraffic = Bytes.FromCount(split.Dense * bytes);
        var dense = kernels.Time(KernelKind.Matrix, Flops.FromOperations(2 * split.Dense * busiest), denseTraffic + Activations(busiest));

        var reached = split.LocalExperts * (1 - Math.Pow(1 - ((double)split.PerToken / split.Routed), tokens));

        // The busiest chip's experts receive the average's assignments times the imbalance (at most every token's k
        // copies, or one per local expert), and read the more of its experts for them.
        var assignments = tokens * split.PerToken / (double)chips;
        var routedWork = split.Expert * assignments;
        var imbalance = Math.Min(split.Skew * (1 + LayerKernels.RoutingSpread(chips, assignments)), chips * Math.Min(split.PerToken, split.LocalExperts) / split.PerToken);
        var reachedBusiest = split.LocalExperts * (1 - Math.Pow(1 - (1 / split.LocalExperts), assignments * imbalance));
        var expertTraffic = Bytes.FromCount((split.ExpertShared + (split.Expert * reached)) * bytes);
        var busiestTraffic = Bytes.FromCount((split.ExpertShared + (split.Expert * Math.Max(reached, reachedBusiest))) * bytes);
        var expert = kernels.Time(KernelKind.Matrix, Flops.FromOperations(2 * ((split.ExpertShared * busiest) + (routedWork * imbalance))), busiestTraffic + Activations(busiest));

        // The busiest chip runs its shares of the decode context, the prefill pairs and the prompt tokens.
        var (decodeWork, decodeTraffic, prefillWork, prefillTraffic) = AttentionWork(iteration, requests);
        var decode = AttentionTime(decodeWork * decodeShare, decodeTraffic * decodeShare, decodes);
        var prefill = AttentionTime(prefillWork * pairShare, prefillTraffic * promptShare, prompts);

        // Dispatch and combine: the busiest chip exchanges the k copies of its tokens' activations, both ways.
        var exchanged = Bytes.FromCount(busiest * split.PerToken * model.HiddenSize * 2.0);
        var exchange = collectives.Time(CollectiveKind.AllToAll, tensorGroup, exchanged) * 2;

        var headTraffic = Bytes.FromCount(headParameters * bytes);
        var head = iteration.SampledTokens > 0 ? kernels.Time(KernelKind.Matrix, Flops.FromOperations(2 * headParameters * Math.Ceiling(iteration.SampledTokens / (double)chips)), headTraffic) : Duration.Zero;

        var (denseLayers, expertLayers) = (model.DenseLayerCount, model.ExpertLayerCount);
        var attention = decode + prefill + deployment.LayerOverhead;
        var time = (((dense + attention) * denseLayers) + ((expert + attention + exchange) * expertLayers) + head) * deployment.IterationScale;

        // The group's work and traffic: every token once through the whole-weight parts, each chip reading its weights.
        var denseWork = Flops.FromOperations(2 * split.Dense * tokens);
        var expertWork = Flops.FromOperations(2 * ((split.ExpertShared * tokens) + (routedWork * chips)));
        var attentionWork = (decodeWork + prefillWork) * model.Layers;
        var work = (denseWork * denseLayers) + (expertWork * expertLayers) + attentionWork + Flops.FromOperations(2 * headParameters * iteration.SampledTokens);
        var traffic = ((denseTraffic * denseLayers) + (expertTraffic * expertLayers) + headTraffic) * chips +
                      (Activations(tokens) * model.Layers) + ((decodeTraffic + prefillTraffic) * model.Layers);
        var sent = Bytes.FromCount(tokens * split.PerToken * model.HiddenSize * 2.0) * (2.0 * (chips - 1) / chips * expertLayers);
        return new IterationWork(time, work, traffic, sent, lowPrecision ? attentionWork : Flops.Zero);
    }

    /// <summary>Weights per layer under expert parallelism: whole on each chip, and the routed experts' split.</summary>
    /// <param name="Dense">A dense layer's matrix weights (attention's projections and the feed-forward), whole on each chip.</param>
    /// <param name="ExpertShared">An expert layer's matrix weights apart from its routed experts (attention, router, shared experts), whole on each chip.</param>
    /// <param name="Expert">One expert's weights.</param>
    /// <param name="LocalExperts">Routed experts on each chip.</param>
    /// <param name="Routed">Routed experts of the layer.</param>
    /// <param name="PerToken">Experts each token is routed to.</param>
    /// <param name="Skew">The model's routing skew at <paramref name="LocalExperts"/> experts a chip (1 where unmeasured).</param>
    private readonly record struct ExpertParallelLayers(double Dense, double ExpertShared, double Expert, double LocalExperts, int Routed, int PerToken, double Skew);
}
