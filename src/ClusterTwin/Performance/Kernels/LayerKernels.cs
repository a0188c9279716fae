using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Kernels;

/// <summary>
/// The kernels of one transformer layer's forward pass on one chip of a tensor-parallel group, for one micro-batch.
/// </summary>
/// <remarks>
/// FLOP counts follow Narayanan et al. 2021 (eq. 3) generalized to grouped-query attention and SwiGLU: a matrix
/// multiply of an (m x k) by a (k x n) matrix is 2mkn operations. Memory-bound kernels are counted by the bytes they
/// read and write. Tensor parallelism splits heads and the feed-forward width; sequence parallelism also splits the
/// norms and dropouts that tensor parallelism alone replicates (Korthikanti et al. 2022, section 4.2.2). Context
/// parallelism splits each sequence: every kernel sees the chip's share of the tokens, each chip holding two chunks
/// of the sequence so the causal work is balanced. Attention then runs as a ring (Liu et al. 2023, "Ring Attention";
/// Megatron-Core's default): one fused kernel per key-value block that passes round the ring; or after an all-gather
/// of the keys and values, one kernel per local chunk; or after an all-to-all to a split of the heads (Ulysses), one
/// kernel over the whole sequence.
/// </remarks>
public static class LayerKernels
{
    /// <summary>
    /// A fused attention's backward operations over its forward's: five multiplies of the forward's size (the scores
    /// again, and the gradients of the values, the probabilities, the queries and the keys) against the forward's two
    /// (FlashAttention-2's count).
    /// </summary>
    public const double FusedAttentionBackwardFactor = 2.5;

    /// <summary>
    /// Builds the forward kernels of one layer: a dense one, or with <paramref name="expertLayer"/> a mixture of experts,
    /// on the busiest chip (the one the step waits for), or with <paramref name="averageLoad"/> on an average chip (for
    /// the work the cluster executes). With <paramref name="localAttention"/> the layer is one of the model's local ones
    /// (<see cref="ModelArchitecture.LocalAttention"/>): its fused attention computes only the window's query-key pairs.
    /// Under ring context parallelism, and unfused, a local layer is costed as a full one: the ring passes every block
    /// (Transformer Engine's later windowed exchange, which fetches only the window's keys, is not modelled), and
    /// unfused attention computes the whole score matrix and masks it.
    /// </summary>
    public static Kernel[] Forward(ModelArchitecture model, TrainingJob job, ParallelPlan plan, bool expertLayer = false, bool averageLoad = false, bool localAttention = false)
    {
        double tensor = plan.TensorParallelism;
        double context = plan.ContextParallelism;
        var tokens = Tokens(job, plan);
        double hidden = model.HiddenSize;
        var bytes = job.Precision.BytesPerElement() < 2 ? 2.0 : job.Precision.BytesPerElement();
        double queryWidth = model.QueryWidth / tensor;
        var keyValueWidth = model.KeyValueWidthPerRank(plan.TensorParallelism, plan.RanksPerChip);
        double feedForward = model.FeedForwardSize / tensor;
        double heads = model.AttentionHeads / tensor;
        double sequence = job.SequenceLength;
        double sequences = plan.MicroBatchSize;
        var replicated = plan.SequenceParallelism ? tokens / tensor : tokens;
        var dropoutMasks = job.Dropout ? 1.0 : 0.0;

        var operators = new List<Kernel>(16) { Elementwise("attention norm", replicated * hidden * bytes * 2) };
        if (model.LatentAttention is { } latent)
        {
            AddLatentProjections(operators, model, latent, job, tokens, heads, bytes);
        }
        else
        {
            AddMatmul(operators, "query-key-value projection", tokens, hidden, queryWidth + (2 * keyValueWidth), job);
        }

        if (job.Attention == AttentionKernel.Flash)
        {
            // Causal masking lets the tiled kernel skip the upper triangle: half the score and value work, of which each
            // context-parallel chip does its 1/c share (load-balanced chunks).
            // A local layer computes the window's pairs: whole where each chip attends over the whole sequence (no context
            // parallelism, or the all-to-all's split of the heads), its share after an all-gather. A ring passes every
            // block whatever the window, and is costed so.
            var windowed = localAttention && model.LocalAttention is not null && (plan.ContextParallelism == 1 || plan.ContextCommunication != ContextCommunication.Ring);
            var work = windowed
                ? 2.0 * sequences * heads * model.LocalAttention!.CausalPairs(sequence) * (model.QueryKeyHeadSize + model.ValueHeadSize) / context
                : 2.0 * sequences * heads * sequence * sequence * (model.QueryKeyHeadSize + model.ValueHeadSize) * 0.5 / context;
            var ownTraffic = tokens * (queryWidth + (model.ValueWidth / tensor) + (2 * keyValueWidth)) * bytes;
            var headSize = new AttentionHeadSize(model.QueryKeyHeadSize, model.ValueHeadSize);
            operators.Add((plan.ContextParallelism == 1
                ? new Kernel("attention (fused)", KernelKind.FusedAttention, KernelRegion.AttentionCore, Flops.FromOperations(work), Bytes.FromCount(ownTraffic), FusedAttentionBackwardFactor)
                : plan.ContextCommunication switch
                {
                    // One kernel over the whole sequence for the chip's 1/c of the heads: the same bytes as its own slice.
                    ContextCommunication.AllToAll => new Kernel("attention (fused), whole sequence for its heads", KernelKind.FusedAttention, KernelRegion.AttentionCore,
                        Flops.FromOperations(work), Bytes.FromCount(ownTraffic), FusedAttentionBackwardFactor),
                    // One kernel per local chunk against the gathered keys and values before it; the two chunks'
                    // prefixes add up to about the whole gathered sequence.
                    ContextCommunication.AllGather => new Kernel("attention (fused), one per local chunk", KernelKind.FusedAttention, KernelRegion.AttentionCore,
                        Flops.FromOperations(work / 2), Bytes.FromCount(((tokens / 2) * (queryWidth + (model.ValueWidth / tensor)) * bytes) + (context * tokens * keyValueWidth * bytes)), FusedAttentionBackwardFactor, 2),
                    // One kernel per ring step against the key-value block it holds, re-reading the queries each time. The
                    // first step pairs the chip's own chunks, under the causal mask; every later one pairs chunks of
                    // different positions, masking nothing (with the balanced chunks, half of each later block is wholly
                    // before the queries and is computed in full, the other half wholly after and skipped).
                    _ => new Kernel("attention (fused), ring step on its own chunks", KernelKind.FusedAttention, KernelRegion.AttentionCore,
                        Flops.FromOperations(work / context), Bytes.FromCount(ownTraffic), FusedAttentionBackwardFactor),
                }) with { HeadSize = headSize });

            if (plan.ContextParallelism > 1 && plan.ContextCommunication == ContextCommunication.Ring)
            {
                operators.Add(new Kernel("attention (fused), one per later ring step", KernelKind.FusedAttention, KernelRegion.AttentionCore,
                    Flops.FromOperations(work / context), Bytes.FromCount(ownTraffic), FusedAttentionBackwardFactor, plan.ContextParallelism - 1) { Unmasked = true, HeadSize = headSize });
            }

            // The collective exchanges rearrange what they move: the all-to-all's buffers are transposed between the
            // sequence split and the head split on each side (queries, keys and values before attention, the output
            // after), and the gathered keys and values are reordered from rank order into sequence order. Each is a
            // read and a write of its bytes, in the attention core (a recompute of the core replays it).
            if (plan.ContextParallelism > 1 && plan.ContextCommunication == ContextCommunication.AllToAll)
            {
                // The backward pass transposes the gradients of the same tensors once: a backward factor of 1.
                operators.Add(Elementwise("context all-to-all: query, key and value layout", tokens * (queryWidth + (2 * keyValueWidth)) * bytes * 2 * 2, KernelRegion.AttentionCore)
                    with { BackwardFactor = 1 });
                operators.Add(Elementwise("context all-to-all: output layout", tokens * (model.ValueWidth / tensor) * bytes * 2 * 2, KernelRegion.AttentionCore) with { BackwardFactor = 1 });
            }
            else if (plan.ContextParallelism > 1 && plan.ContextCommunication == ContextCommunication.AllGather)
            {
                operators.Add(Elementwise("context all-gather: key and value reorder", context * tokens * 2 * keyValueWidth * bytes * 2, KernelRegion.AttentionCore));
            }
        }
        else
        {
            var scores = sequences * heads * sequence * sequence;
            operators.Add(Batched("attention scores", sequences * heads, sequence, model.QueryKeyHeadSize, sequence, bytes, KernelRegion.AttentionCore));
            operators.Add(Elementwise("softmax", scores * bytes * 2, KernelRegion.AttentionCore));
            if (job.Dropout)
            {
                operators.Add(Elementwise("attention dropout", scores * ((bytes * 2) + dropoutMasks), KernelRegion.AttentionCore));
            }

            operators.Add(Batched("attention over values", sequences * heads, sequence, sequence, model.ValueHeadSize, bytes, KernelRegion.AttentionCore));
        }

        AddMatmul(operators, "output projection", tokens, model.ValueWidth / tensor, hidden, job);
        operators.Add(Elementwise("residual and dropout", replicated * hidden * ((bytes * 3) + dropoutMasks)));
        // Megatron-Core's Transformer Engine layers fuse the attention norm, and a dense layer's feed-forward norm, into
        // the projection after it; only a mixture-of-experts layer keeps its feed-forward norm apart, before the router,
        // and so only that norm is the layernorm recompute module.
        var expertBlock = expertLayer && model.MixtureOfExperts is not null;
        operators.Add(Elementwise("feed-forward norm", replicated * hidden * bytes * 2) with { Modules = expertBlock ? RecomputeModules.Norms : RecomputeModules.None });
        if (expertLayer && model.MixtureOfExperts is { } experts)
        {
            var block = new List<Kernel>(16);
            AddExperts(block, model, experts, job, plan, tokens, bytes, averageLoad && job.ExpertCapacityFactor is null ? 1 : LoadImbalance(experts, job, plan));
            operators.AddRange(block.Select(kernel => kernel with { Region = KernelRegion.Experts }));
        }
        else
        {
            AddFeedForward(operators, model, job, "feed-forward", tokens, feedForward, module: RecomputeModules.FeedForward);
        }

        operators.Add(Elementwise("residual and dropout", replicated * hidden * ((bytes * 3) + dropoutMasks)));
        return [.. operators];
    }

    /// <summary>
    /// Latent attention's projections (Megatron-Core's unabsorbed training path): the hidden state projected down to the
    /// query latent and to the key-value latent with the shared rotary key, each latent normalized, then projected up
    /// to the rank's heads. The down-projections are replicated across the tensor-parallel group. The up-projections
    /// (and under a low-precision format the casts of their inputs) are the <c>mla_up_proj</c> recompute module, with
    /// the query projection where there is no query latent (Megatron-Core replays them in one block).
    /// </summary>
    private static void AddLatentProjections(List<Kernel> operators, ModelArchitecture model, LatentAttention latent, TrainingJob job, double tokens, double heads, double bytes)
    {
        double hidden = model.HiddenSize;
        if (latent.QueryRank > 0)
        {
            AddMatmul(operators, "query down-projection", tokens, hidden, latent.QueryRank, job);
            operators.Add(Elementwise("query latent norm", tokens * latent.QueryRank * bytes * 2));
            AddMatmul(operators, "query up-projection", tokens, latent.QueryRank, heads * model.QueryKeyHeadSize, job, module: RecomputeModules.LatentUpProjections, castModule: RecomputeModules.LatentUpProjections);
        }
        else
        {
            // Without a query latent the queries come straight from the hidden state, in the same replayed block.
            AddMatmul(operators, "query projection", tokens, hidden, heads * model.QueryKeyHeadSize, job, module: RecomputeModules.LatentUpProjections, castModule: RecomputeModules.LatentUpProjections);
        }

        AddMatmul(operators, "key-value down-projection", tokens, hidden, latent.KeyValueRank + latent.RotaryHeadSize, job);
        operators.Add(Elementwise("key-value latent norm", tokens * latent.KeyValueRank * bytes * 2));
        AddMatmul(operators, "key-value up-projection", tokens, latent.KeyValueRank, heads * (model.HeadSize + model.ValueHeadSize), job, module: RecomputeModules.LatentUpProjections, castModule: RecomputeModules.LatentUpProjections);
    }

    /// <summary>
    /// Tokens one chip routes in a mixture-of-experts layer: its share of the micro-batch, split across the tensor
    /// group (Megatron-Core routes each tensor rank's sequence-parallel share).
    /// </summary>
    public static double RoutedTokens(TrainingJob job, ParallelPlan plan) =>
        Tokens(job, plan) / (plan.SequenceParallelism ? plan.TensorParallelism : 1);

    /// <summary>
    /// How much more than the average the busiest chip's experts receive: the model's routing skew at the chip's number
    /// of local experts (1 under forced load balancing) times the spread of balanced random routing, whose token-expert assignments on a chip are binomial with mean <c>n = tokens x k</c>;
    /// the largest of <c>e</c> chips' loads lies about <c>sqrt(2 ln e / n)</c> above the mean (the Gaussian maximum).
    /// Without expert parallelism every chip holds every expert: no chip is busier than another. With a capacity
    /// factor, every expert's input is padded (or cut) to that multiple of the average.
    /// </summary>
    public static double LoadImbalance(ExpertLayers experts, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(experts);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(plan);
        if (job.ExpertCapacityFactor is { } capacity)
        {
            return capacity;
        }

        if (plan.ExpertParallelism <= 1)
        {
            return 1;
        }

        var spread = RoutingSpread(plan.ExpertParallelism, RoutedTokens(job, plan) * experts.PerToken);
        return (job.ForcedLoadBalance ? 1 : experts.RoutingSkewAt(experts.Routed / (double)plan.ExpertParallelism)) * (1 + spread);
    }

    /// <summary>
    /// How far above the mean the busiest of <paramref name="chips"/> chips' loads lies under balanced random routing,
    /// as a share of the mean, where each chip's experts receive <paramref name="assignments"/> token-expert assignments
    /// on average: <c>sqrt(2 ln e / n)</c>, the Gaussian maximum of binomial loads (serving's expert parallelism takes
    /// the same).
    /// </summary>
    public static double RoutingSpread(int chips, double assignments) => Math.Sqrt(2 * Math.Log(chips) / Math.Max(assignments, 1));

    // A feed-forward block: up projection, activation, down projection. perExpert marks the routed experts' block,
    // each multiply launched once per local expert; module is the recompute module its kernels belong to.
    private static void AddFeedForward(List<Kernel> operators, ModelArchitecture model, TrainingJob job, string name, double rows, double width, int repeats = 1, bool perExpert = false,
        RecomputeModules module = RecomputeModules.None)
    {
        var bytes = Math.Max(2.0, job.Precision.BytesPerElement());
        var upProjections = model.Activation == FeedForwardActivation.SwiGlu ? 2 : 1;
        // The routed experts' activation is its own recompute module (moe_act), and replaying it casts its output for
        // the down projection again.
        var activation = perExpert ? RecomputeModules.ExpertActivation : module;
        AddMatmul(operators, $"{name} up projection", rows, model.HiddenSize, width * upProjections, job, repeats, perExpert, module, module);
        var activationName = model.Activation switch { FeedForwardActivation.SwiGlu => "SwiGLU", FeedForwardActivation.SquaredRelu => "squared ReLU", _ => "GeLU" };
        operators.Add(Elementwise($"{name} {activationName}", rows * width * bytes * (upProjections + 1) * repeats)
            with { Modules = activation });
        AddMatmul(operators, $"{name} down projection", rows, width, model.HiddenSize, job, repeats, perExpert, module, activation);
    }

    /// <summary>
    /// A mixture-of-experts feed-forward block on one chip (Megatron-Core's dropless token dispatcher): the router
    /// and its top-k on the chip's routed tokens, the permutation that groups tokens by expert, each local expert's
    /// multiplies on the tokens it receives (the busiest chip's share), the reverse permutation, and the shared
    /// experts, split by tensor parallelism like a dense block. The all-to-all that moves the tokens is a collective,
    /// costed by the engine.
    /// </summary>
    private static void AddExperts(List<Kernel> operators, ModelArchitecture model, ExpertLayers experts, TrainingJob job, ParallelPlan plan, double tokens, double bytes, double imbalance)
    {
        var routed = RoutedTokens(job, plan);
        var (router, scores, permutation, unpermutation) = Routing(routed, model.HiddenSize, experts, Math.Max(2, job.Precision.BytesPerElement()), bytes);
        operators.AddRange([router, scores, permutation]);
        var localExperts = experts.Routed / plan.ExpertParallelism;
        var received = routed * experts.PerToken * imbalance;
        AddFeedForward(operators, model, job, "expert", received / localExperts, experts.FeedForwardSize, localExperts, perExpert: true);
        operators.Add(unpermutation);
        if (experts.Shared > 0)
        {
            AddFeedForward(operators, model, job, "shared expert", tokens, (double)experts.Shared * experts.FeedForwardSize / plan.TensorParallelism, module: RecomputeModules.SharedExperts);
        }
    }

    /// <summary>The output head and loss, run once per micro-batch on the last pipeline stage.</summary>
    public static Kernel[] OutputHead(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        var tokens = Tokens(job, plan);
        double vocabulary = model.VocabularySize / (double)plan.TensorParallelism;
        var bytes = Math.Max(2.0, job.Precision.BytesPerElement());
        return
        [
            Elementwise("final norm", tokens * model.HiddenSize * bytes * 2 / (plan.SequenceParallelism ? plan.TensorParallelism : 1)),
            // In BF16 under every low-precision format (Kernel.KeptInBf16).
            Matmul("output head", tokens, model.HiddenSize, vocabulary, Math.Max(2, job.MatrixBytesPerElement)) with { KeptInBf16 = true },
            Elementwise("cross-entropy loss", tokens * vocabulary * (bytes + 4) * 2),
        ];
    }

    /// <summary>
    /// The join at the head of a multi-token prediction module, once per micro-batch on the last stage: the hidden state
    /// and the next token's embedding each normalized, then projected from twice the hidden width back to it (split by
    /// tensor parallelism like a row of the layer's projections).
    /// </summary>
    public static Kernel[] PredictionJoin(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokens = Tokens(job, plan);
        var bytes = Math.Max(2.0, job.Precision.BytesPerElement());
        var kernels = new List<Kernel>(3) { Elementwise("prediction norms", tokens * model.HiddenSize * bytes * 4) };
        AddMatmul(kernels, "prediction projection", tokens, 2.0 * model.HiddenSize / plan.TensorParallelism, model.HiddenSize, job);
        return [.. kernels];
    }

    /// <summary>The embedding lookup, run once per micro-batch on the first pipeline stage.</summary>
    public static Kernel[] Embedding(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        var tokens = Tokens(job, plan);
        var bytes = Math.Max(2.0, job.Precision.BytesPerElement());
        return [Elementwise("embedding lookup", tokens * model.HiddenSize * bytes * 2 / (plan.SequenceParallelism ? plan.TensorParallelism : 1))];
    }

    /// <summary>Tokens of one micro-batch on one chip: context parallelism splits each sequence.</summary>
    public static double Tokens(TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(plan);
        return (double)plan.MicroBatchSize * job.SequenceLength / plan.ContextParallelism;
    }

    /// <summary>
    /// An expert layer's routing of <paramref name="routedTokens"/> tokens: the router's multiply, its softmax and top-k
    /// (FP32 scores, read and written), the permutation that groups each token's copies by expert and the
    /// unpermutation that brings them back (each copy read and written once, at <paramref name="tokenBytes"/> per
    /// element: the traffic of fused kernels, such as Transformer Engine's moe_permute).
    /// </summary>
    public static (Kernel Router, Kernel Scores, Kernel Permutation, Kernel Unpermutation) Routing(double routedTokens, double hidden, ExpertLayers experts, double routerBytes, double tokenBytes)
    {
        ArgumentNullException.ThrowIfNull(experts);
        var copies = routedTokens * experts.PerToken * hidden * tokenBytes * 2;
        return (Matmul("router", routedTokens, hidden, experts.Routed, routerBytes),
            Elementwise("router softmax and top-k", routedTokens * experts.Routed * 4 * 2) with { TokenRouting = true },
            Elementwise("token permutation", copies) with { TokenRouting = true },
            Elementwise("token unpermutation", copies) with { TokenRouting = true });
    }

    /// <summary>
    /// A projection; under FP8 preceded by the cast of its input (read BF16, write FP8, with the scale's amax), which
    /// Transformer Engine runs as a memory-bound kernel, and whose backward casts the incoming gradient the same way.
    /// </summary>
    private static void AddMatmul(List<Kernel> kernels, string name, double rows, double inner, double columns, TrainingJob job, int repeats = 1, bool perExpert = false,
        RecomputeModules module = RecomputeModules.None, RecomputeModules castModule = RecomputeModules.None)
    {
        var elementBytes = job.MatrixBytesPerElement;
        if (job.CastsMultiplyInputs)
        {
            kernels.Add(Elementwise($"{name}: {job.Format.Key} cast", rows * inner * (2 + elementBytes) * repeats) with { Modules = castModule });
        }

        kernels.Add(Matmul(name, rows, inner, columns, elementBytes) with { Repeats = repeats, PerExpertLaunch = perExpert, Modules = module });
    }

    private static Kernel Matmul(string name, double rows, double inner, double columns, double elementBytes) =>
        new(name, KernelKind.Matrix, KernelRegion.Layer,
            Flops.FromOperations(2 * rows * inner * columns),
            Bytes.FromCount((((rows * inner) + (inner * columns)) * elementBytes) + (rows * columns * Math.Max(2, elementBytes))),
            2);

    private static Kernel Batched(string name, double batch, double rows, double inner, double columns, double elementBytes, KernelRegion region) =>
        new(name, KernelKind.Matrix, region,
            Flops.FromOperations(2 * batch * rows * inner * columns),
            Bytes.FromCount(batch * ((rows * inner) + (inner * columns) + (rows * columns)) * elementBytes),
            2);

    private static Kernel Elementwise(string name, double traffic, KernelRegion region = KernelRegion.Layer) =>
        new(name, KernelKind.Memory, region, Flops.Zero, Bytes.FromCount(traffic), 2);
}
