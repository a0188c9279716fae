using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// Predicts a training step in closed form: each operator by roofline, each collective by an algorithm fitted to
/// the fabric, the pipeline by its schedule. Groups of a parallel dimension are symmetric, so the cost does not
/// depend on the number of chips.
/// </summary>
/// <remarks>
/// The step is <c>(m + (p-1)/v) t</c> on the slowest stage (Narayanan et al. 2021, section 2.2), where <c>m</c> is
/// micro-batches per step, <c>p</c> pipeline stages, <c>v</c> virtual stages and <c>t</c> the stage's time per
/// micro-batch (compute, recompute, exposed tensor-parallel and pipeline communication), plus data-parallel
/// communication that the backward pass cannot hide and the optimizer step.
/// </remarks>
public static class AnalyticalEngine
{
    /// <summary>
    /// Bytes per parameter a mixed-precision Adam step moves through memory, pass by pass as Megatron-LM runs it:
    /// cast the gradient to the FP32 main gradient (2 read + 4 written), unscale it and check for overflow (4 + 4),
    /// take its norm for clipping (4), update (gradient, master weight and two moments read: 16; master weight
    /// and moments written: 12), and copy the master weight back to the 16-bit model weight (4 + 2).
    /// </summary>
    private const double OptimizerTrafficPerParameter = 2 + 4 + 4 + 4 + 4 + 16 + 12 + 4 + 2;

    /// <summary>The copy back to the 16-bit model weight (4 read + 2 written), which a framework keeping only the FP32 shard does not make.</summary>
    private const double WeightCopyTrafficPerParameter = 4 + 2;

    /// <summary>Simulates one step of <paramref name="scenario"/>, with the band its measurement is expected to fall in.</summary>
    public static TrainingStepResult Simulate(Scenario scenario)
    {
        var result = SimulateStep(scenario);
        if (!result.Valid)
        {
            return result;
        }

        var (low, high, sources) = UncertaintyBand.Of(scenario, result.StepTime);
        var (energy, cost) = EnergyAndCost(scenario, Activity(result), result.Chips, (low, high));
        return result with { StepTimeLow = low, StepTimeHigh = high, BandSources = sources, Energy = energy, Cost = cost };
    }

    /// <summary>Simulates one step without its uncertainty band: the cheap path for searches and sweeps.</summary>
    public static TrainingStepResult SimulateStep(Scenario scenario) => SimulateStep(scenario, null);

    /// <summary>
    /// Simulates one step with <paramref name="collectives"/>, the cost model of the scenario's cluster built once for
    /// many layouts of it (a plan search), or a new one when null.
    /// </summary>
    internal static TrainingStepResult SimulateStep(Scenario scenario, CollectiveCost? collectives)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var (cluster, efficiency, model, job) = (scenario.Cluster, scenario.Efficiency, scenario.Model, scenario.Job);
        var plan = PlanOf(scenario);
        var problems = PlanChecks.Problems(plan, cluster, model, job, scenario.Framework);
        if (problems.Count > 0)
        {
            return new TrainingStepResult { Scenario = scenario.Name, Valid = false, Problems = [.. problems], Chips = cluster.ChipCount };
        }

        var kernels = KernelCostOf(scenario);
        var peak = kernels.PeakRate;
        collectives ??= new CollectiveCost(cluster, efficiency);
        var strides = RankStrides.Of(plan);
        var tensorGroup = GroupPlacement.Place(cluster, plan.TensorParallelism, strides.Tensor);
        var dataGroup = GroupPlacement.Place(cluster, plan.ShardingDegree, strides.Gradient(plan));
        var replicaGroup = GroupPlacement.Place(cluster, plan.ReplicaGroups, strides.Gradient(plan) * plan.ShardingDegree);
        var pipelineGroup = GroupPlacement.PlaceNeighbours(cluster, plan.PipelineParallelism, strides.Pipeline);
        var contextGroup = ContextPass.Group(cluster, plan);
        var expertGroup = GroupPlacement.Place(cluster, plan.ExpertParallelism, strides.Expert(plan));
        var expertSharding = plan.ZeroStage >= 1 ? plan.ExpertShardingDegree : 1;
        var expertDataGroup = GroupPlacement.Place(cluster, plan.ExpertShardingDegree, strides.Expert(plan) * plan.ExpertParallelism);

        var pipeline = plan.PipelineParallelism;
        var microBatches = job.GlobalBatchSize / (double)(plan.DataParallelism * plan.MicroBatchSize);
        var stages = PipelineLayers.Of(model.Layers, plan);
        var tokens = LayerKernels.Tokens(job, plan);
        var activation = Bytes.FromCount(tokens * model.HiddenSize * Math.Max(2, job.Precision.BytesPerElement()));

        // Context parallelism exchanges keys and values around each layer's attention: ring steps, or collectives.
        var contextPass = ContextPass.Of(collectives, contextGroup, model, job, plan);

        // Mixture of experts: each chip's routed tokens go to their experts and come back (dispatch and combine),
        // one all-to-all each way in every pass, in BF16.
        var dispatch = ExpertExchange.Time(collectives, expertGroup, model, job, plan) * 2;

        var tensorPass = TensorCollectivesPerPass(plan, collectives, tensorGroup, activation);
        // Under sequence parallelism the backward pass gathers again what the column-parallel multiplies after a norm
        // kept as local shards (SequenceParallelRegather); so does the output head, which stays in BF16.
        var savedInputs = scenario.Framework.SavedMultiplyInputs;
        var (denseRegathered, expertRegathered) = (SequenceParallelRegather.Tensors(model, job, plan, savedInputs, expertLayer: false), SequenceParallelRegather.Tensors(model, job, plan, savedInputs, expertLayer: true));
        var regather = SequenceParallelRegather.Time(collectives, tensorGroup, denseRegathered);
        var expertRegather = SequenceParallelRegather.Time(collectives, tensorGroup, expertRegathered);
        var headRegather = plan.SequenceParallelism && plan.TensorParallelism > 1 ? collectives.Time(CollectiveKind.AllGather, tensorGroup, Bytes.FromCount(tokens * model.HiddenSize * 2.0)) : Duration.Zero;
        var layer = LayerCost(model, job, plan, kernels, (tensorPass, tensorPass + regather), contextPass, Duration.Zero, expertOverlap: null, expertLayer: false, averageLoad: false);
        var expertLayer = model.ExpertLayerCount > 0
            ? LayerCost(model, job, plan, kernels, (tensorPass, tensorPass + expertRegather), contextPass, dispatch, scenario.Framework.ExpertOverlap, expertLayer: true, averageLoad: false)
            : layer;
        var embedding = BoundaryCost(LayerKernels.Embedding(model, job, plan), kernels, tensorPass / 2);
        var head = BoundaryCost(LayerKernels.OutputHead(model, job, plan), kernels, (tensorPass / 2) + headRegather);
        StageCost Layers(int dense, int count) => (layer * dense) + (expertLayer * (count - dense));

        // The work the cluster executes: the busiest chip sets the time, but the average chip's experts do the work
        // (the same kernels where no chip is busier than another).
        var averageExpertLayer = model.MixtureOfExperts is { } routing && model.ExpertLayerCount > 0 && LayerKernels.LoadImbalance(routing, job, plan) > 1
            ? LayerCost(model, job, plan, kernels, (tensorPass, tensorPass + expertRegather), contextPass, dispatch, scenario.Framework.ExpertOverlap, expertLayer: true, averageLoad: true)
            : expertLayer;

        // Multi-token prediction modules run after the main model on the last stage: two norms and the projection that
        // joins the next token's embedding to the hidden state, one more layer, and the shared head and its loss.
        var predictionModules = job.MultiTokenPredictionDepth(model);
        var prediction = default(StageCost);
        var predictionLayerHostWait = Duration.Zero;
        if (predictionModules > 0)
        {
            // A module's layer attends to the whole context, as the model FLOPs count it, where the model's own layers
            // are partly local.
            var usesExperts = model.MultiTokenPredictionUsesExperts;
            var predictionLayer = model.LocalAttention is null
                ? (usesExperts ? expertLayer : layer)
                : LayerCost(model, job, plan, kernels, (tensorPass, tensorPass + (usesExperts ? expertRegather : regather)), contextPass, usesExperts ? dispatch : Duration.Zero,
                    usesExperts ? scenario.Framework.ExpertOverlap : null, usesExperts, averageLoad: false, wholeContext: true);
            predictionLayerHostWait = predictionLayer.HostWait;
            prediction = (BoundaryCost(LayerKernels.PredictionJoin(model, job, plan), kernels, Duration.Zero) + predictionLayer + head) * predictionModules;
        }

        var first = Layers(model.DenseLayersIn(0, stages.First), stages.First) + embedding;
        var last = Layers(model.DenseLayersIn(model.Layers - stages.Last, stages.Last), stages.Last) + head + prediction;
        // Middle ranks differ only in how many dense layers they hold; the cost is linear in that count.
        var (fewestDense, mostDense) = stages.MiddleDenseLayers(model, pipeline);
        var middle = Slowest(Layers(mostDense, stages.Middle), Layers(fewestDense, stages.Middle), default);
        var slowest = pipeline == 1 ? first + head + prediction : Slowest(first, pipeline > 2 ? middle : first, last);
        if (NoRecomputeSlowdown(scenario) is { } slowdown)
        {
            slowest = slowest with { Compute = slowest.Compute * slowdown };
        }

        // Pipeline: each micro-batch crosses every chunk boundary forward and backward; Megatron's scatter-gather
        // sends one tensor-parallel shard per chip.
        var pipelineMessage = activation / plan.TensorParallelism;
        var pipelineSends = pipeline > 1 ? 2.0 * plan.VirtualStages : 0;
        var pipelineSend = pipeline > 1 ? collectives.Time(CollectiveKind.PointToPoint, pipelineGroup, pipelineMessage) : Duration.Zero;
        var pipelinePerMicroBatch = pipeline > 1
            ? PipelineSendsExposed(pipelineSend, slowest, plan.VirtualStages, plan.OverlapsPipelineSends(scenario.Framework))
            : Duration.Zero;

        var offload = OffloadExposed(plan, cluster.System, model, job, scenario.Framework.SavedMultiplyInputs, Layers);
        // The fill and the drain wait for every send in full: the stage that receives has nothing to overlap them with.
        var perMicroBatch = slowest.Total + (pipelineSend * pipelineSends) + offload;
        var bubbleFraction = (pipeline - 1) / (double)plan.VirtualStages;

        var stageParameters = StageParameters.Of(model, job, plan);
        var parametersPerChip = stageParameters.Heaviest;
        var expertParametersPerChip = stageParameters.HeaviestExperts;
        var reduction = scenario.Framework.GradientReductionFor(job);
        var gradientBytes = reduction.BytesPerElement();
        // Only the chips whose collective library the framework's channels describe (NCCL on NVIDIA's).
        var channels = scenario.Framework.CollectiveChannels is { } described && described.AppliesTo(cluster.Chip.Vendor) ? described : null;
        var dataParallel = DataParallelExposed(plan, job, collectives, dataGroup, parametersPerChip, plan.ShardingDegree, slowest, microBatches, gradientBytes, channels) +
                           ReplicaReduction(plan, collectives, replicaGroup, parametersPerChip, slowest, gradientBytes, channels) +
                           DataParallelExposed(plan, job, collectives, expertDataGroup, expertParametersPerChip, plan.ExpertShardingDegree, slowest, microBatches, gradientBytes, channels);
        var optimizerParameters = (parametersPerChip / (plan.ZeroStage >= 1 ? plan.ShardingDegree : 1)) + (expertParametersPerChip / expertSharding);
        var masterOnly = MemoryModel.KeepsMasterOnly(plan, scenario.Framework.FullyShardedWeights);
        var optimizerTraffic = Bytes.FromCount(optimizerParameters * (OptimizerTrafficPerParameter - (masterOnly ? WeightCopyTrafficPerParameter : 0)));
        var optimizer = kernels.Time(KernelKind.Memory, Flops.Zero, optimizerTraffic);

        var breakdown = new StepBreakdown(
            Compute: slowest.Compute * microBatches,
            Recompute: slowest.Recompute * microBatches,
            TensorParallelCommunication: slowest.TensorCommunication * microBatches,
            PipelineCommunication: pipelinePerMicroBatch * microBatches,
            PipelineBubble: perMicroBatch * bubbleFraction,
            DataParallelCommunication: dataParallel,
            Optimizer: optimizer,
            ContextParallelCommunication: slowest.ContextCommunication * microBatches,
            ExpertParallelCommunication: slowest.ExpertCommunication * microBatches,
            HostLaunchWait: (slowest.HostWait + slowest.RecomputeHostWait) * microBatches,
            ActivationOffload: offload * microBatches);

        var modelWork = (layer * model.DenseLayerCount) + (averageExpertLayer * model.ExpertLayerCount) + embedding + head + prediction;
        var modelCopies = microBatches * plan.DataParallelism * plan.TensorParallelism * plan.ContextParallelism;
        var hardwareWork = modelWork.HardwareWork * modelCopies;
        // Under a low-precision format, the part run at BF16's rate costs BF16's energy per FLOP.
        var bf16Work = kernels.Bf16PeakRate < peak ? modelWork.Bf16Work * modelCopies : Flops.Zero;
        // The average chip's optimizer and gradient traffic: its rank's parameters, divided by the sharding as for the slowest.
        var averageParameters = stageParameters.Average(pipeline);
        var averageOptimizerTraffic = optimizerTraffic * (averageParameters / Math.Max(parametersPerChip + expertParametersPerChip, 1));
        var memoryTraffic = (modelWork.MemoryTraffic * modelCopies) + (averageOptimizerTraffic * cluster.ChipCount);
        var regathered = (denseRegathered.Total * model.DenseLayerCount) + (expertRegathered.Total * model.ExpertLayerCount);
        var linkTraffic = LinkTrafficPerChip(model, job, plan, activation, regathered, pipelineMessage * pipelineSends, averageParameters, microBatches, gradientBytes) * microBatches * cluster.ChipCount;
        var memory = MemoryModel.PerChip(model, job, plan, scenario.Framework.FullyShardedWeights, reduction, scenario.Framework.SavedMultiplyInputs);
        var capacity = cluster.Chip.MemoryCapacity.Value;
        var warnings = tensorGroup.Aligned && dataGroup.Aligned && replicaGroup.Aligned && pipelineGroup.Aligned && contextGroup.Aligned && expertGroup.Aligned
            ? ImmutableArray<string>.Empty
            : [.. new[] { ("tensor", tensorGroup), ("context", contextGroup), ("expert", expertGroup), ("data", dataGroup), ("replica", replicaGroup), ("pipeline", pipelineGroup) }
                .Where(pair => !pair.Item2.Aligned)
                .Select(pair => $"the {pair.Item1}-parallel groups do not line up with the {cluster.System.Chips.Value}-chip systems (some straddle two); they are costed as a flat collective over the network, an upper bound. Degrees whose blocks divide the system size, or another rank order, avoid it.")];
        if (model.MaximumSequenceLength is { } context && job.SequenceLength > context)
        {
            warnings = warnings.Add($"sequence {job.SequenceLength:N0} is longer than the {context:N0} tokens {model.Name} was trained with: its positions extrapolate (context extension scales them and fine-tunes); the step is costed as written");
        }

        if (!double.IsFinite(breakdown.Total.Seconds) || !double.IsFinite(memory.Total.Count))
        {
            return new TrainingStepResult
            {
                Scenario = scenario.Name,
                Valid = false,
                Problems = ["the inputs give a step time or memory that is not a finite number: look for an absurd figure in the catalogue or the scenario"],
                Chips = cluster.ChipCount,
            };
        }

        var modelFlops = ModelFlops(model, job);
        var step = breakdown.Total;
        var (energy, cost) = EnergyAndCost(scenario, new StepActivity(step, hardwareWork, memoryTraffic, linkTraffic, job.TokensPerStep, modelFlops, bf16Work), cluster.ChipCount, band: null);
        var result = new TrainingStepResult
        {
            Scenario = scenario.Name,
            Valid = true,
            Warnings = warnings,
            Problems = [],
            ChipName = cluster.Chip.Name,
            Chips = cluster.ChipCount,
            MicroBatches = microBatches,
            Breakdown = breakdown,
            ExpertLayerHostWait = model.ExpertLayerCount > 0 ? expertLayer.HostWait : Duration.Zero,
            PredictionLayerHostWait = predictionLayerHostWait,
            TokensPerStep = job.TokensPerStep,
            ModelFlopsPerStep = modelFlops,
            HardwareFlopsPerStep = hardwareWork,
            Bf16FlopsPerStep = bf16Work,
            MemoryTrafficPerStep = memoryTraffic,
            LinkTrafficPerStep = linkTraffic,
            PeakRatePerChip = peak,
            Memory = memory,
            MemoryCapacity = capacity,
            HostMemory = MemoryModel.OffloadedPerChip(model, job, plan, scenario.Framework.SavedMultiplyInputs),
            HostMemoryCapacity = plan.OffloadedLayers > 0 ? cluster.System.HostMemoryPerChip : null,
            TokensToTrain = job.TokensToTrain,
            EnergyMissing = EnergyModel.Missing(cluster),
            CostMissing = scenario.Cost is null ? "the scenario names no prices" : scenario.Cost.Missing,
            Energy = energy,
            Cost = cost,
        };
        return result;
    }

    /// <summary>
    /// <paramref name="scenario"/>'s plan as the engine runs it. The plan's degrees count chips; a chip running several
    /// ranks (a Neuron chip, one per NeuronCore) replicates key-value heads per rank. A copy only where it differs: the
    /// plan search runs a million steps a second.
    /// </summary>
    internal static ParallelPlan PlanOf(Scenario scenario) =>
        scenario.Plan.RanksPerChip == scenario.Cluster.Chip.Ranks ? scenario.Plan : scenario.Plan with { RanksPerChip = scenario.Cluster.Chip.Ranks };

    /// <summary>
    /// The kernel cost model of <paramref name="scenario"/>'s chips: its job's peak rate and the BF16 rate of what a
    /// low-precision recipe keeps in BF16, its framework's expert launches, and the framework's unfused token routing
    /// where the job does not permute with fused kernels.
    /// </summary>
    internal static KernelCost KernelCostOf(Scenario scenario)
    {
        var (chip, job) = (scenario.Cluster.Chip, scenario.Job);
        var peak = chip.PeakRate(job.Precision)!.Value;
        var bf16Peak = chip.PeakRate(Precision.Bf16) is { } bf16 && bf16 < peak ? bf16 : peak;
        // Drop-and-pad routing gives every expert its fixed capacity, so Megatron-Core's alltoall dispatcher makes no
        // device-to-host copy of the tokens per expert (MoEAlltoAllTokenDispatcher.preprocess returns before it): the
        // host runs ahead of the device.
        return new KernelCost(peak, bf16Peak, chip.MemoryBandwidth.Value, scenario.Efficiency)
        {
            ExpertLaunch = scenario.Framework.ExpertLaunchFor(job),
            HostRunsAhead = job.ExpertCapacityFactor is not null,
            UnfusedTokenRouting = scenario.Framework.UnfusedTokenRoutingFor(job),
        };
    }

    private static StepActivity Activity(TrainingStepResult result) =>
        new(result.StepTime, result.HardwareFlopsPerStep, result.MemoryTrafficPerStep, result.LinkTrafficPerStep, result.TokensPerStep, result.ModelFlopsPerStep, result.Bf16FlopsPerStep);

    /// <summary>
    /// The step's energy and cost, their ranges taken with the step time across <paramref name="band"/>; without a band
    /// (the search's cheap path) the ranges are the central figures.
    /// </summary>
    private static (StepEnergy? Energy, StepCost? Cost) EnergyAndCost(Scenario scenario, StepActivity activity, long chips, (Duration Fastest, Duration Slowest)? band)
    {
        var energy = EnergyModel.Of(scenario.Cluster, scenario.Job.Precision, activity, band, scenario.Cost?.PowerUsageEffectiveness);
        // The chips are held (and paid for) for the throttled step where they run at their power limit.
        var held = energy?.StepTime ?? activity.StepTime;
        var stretch = held / activity.StepTime;
        var (fastest, slowest) = band ?? (activity.StepTime, activity.StepTime);
        var cost = scenario.Cost is { } settings ? CostModel.Of(settings, chips, held, fastest * stretch, slowest * stretch, activity.Tokens, energy) : null;
        return (energy, cost);
    }

    /// <summary>
    /// Model FLOPs of one step in the Megatron convention (Narayanan et al. 2021, eq. 3, generalized to grouped-query
    /// attention and SwiGLU): forward plus backward is three forward passes, attention is counted over the full
    /// sequence, and recompute is not counted. With <paramref name="causalAttention"/>, attention counts only the causal
    /// half of the score and value products, as NeMo's and Megatron-Bridge's formulas do since 2025. Multi-token
    /// prediction modules the job trains count like the layer and head they run. A local-attention layer's query counts
    /// the keys its window lets it see (<see cref="LocalAttention"/>).
    /// </summary>
    public static Flops ModelFlops(ModelArchitecture model, TrainingJob job, bool causalAttention = false)
    {
        var (perTokenForward, _) = ForwardFlopsPerToken(model, job, causalAttention);
        return Flops.FromOperations(3 * perTokenForward * job.TokensPerStep);
    }

    /// <summary>
    /// The factor on <paramref name="scenario"/>'s kernel time from its framework's slowdown without recompute: the
    /// framework's <see cref="TrainingFramework.NoRecomputeSlowdown"/> where the plan keeps its activations for the
    /// backward pass (any recompute but full; fitted, not explained); null where none applies.
    /// </summary>
    public static double? NoRecomputeSlowdown(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return scenario.Plan.Recompute == RecomputePolicy.Full ? null : scenario.Framework.NoRecomputeSlowdown;
    }

    /// <summary>
    /// The share of <see cref="ModelFlops"/> that the attention's score and value products take: where it is small, a
    /// run's time says little about the attention kernel.
    /// </summary>
    public static double AttentionShare(ModelArchitecture model, TrainingJob job)
    {
        var (perTokenForward, attention) = ForwardFlopsPerToken(model, job, causalAttention: false);
        return attention / perTokenForward;
    }

    /// <summary>One token's forward FLOPs (<see cref="ModelFlops"/>) and the attention products' part of them.</summary>
    private static (double Total, double Attention) ForwardFlopsPerToken(ModelArchitecture model, TrainingJob job, bool causalAttention)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job);
        var attention = 2.0 * job.SequenceLength * model.AttentionHeads * (model.QueryKeyHeadSize + model.ValueHeadSize) * (causalAttention ? 0.5 : 1);
        var head = 2.0 * model.HiddenSize * model.VocabularySize;
        var predictionModules = job.MultiTokenPredictionDepth(model);
        var prediction = predictionModules *
                         ((2 * model.ActiveMatrixParameters(model.MultiTokenPredictionUsesExperts)) + attention + (4.0 * model.HiddenSize * model.HiddenSize) + head);
        var total = (model.DenseLayerCount * ((2 * model.ActiveMatrixParameters(expertLayer: false)) + attention)) +
                    (model.ExpertLayerCount * ((2 * model.ActiveMatrixParameters(expertLayer: true)) + attention)) +
                    head + prediction;
        // A local layer's query sees the window (or, causally, its share of the window's pairs) instead of the sequence.
        var localSaving = model.LocalAttention is { } local
            ? model.LocalAttentionLayerCount * (attention - (2.0 * model.AttentionHeads * (model.QueryKeyHeadSize + model.ValueHeadSize) *
                (causalAttention ? local.CausalPairs(job.SequenceLength) / job.SequenceLength : local.KeysSeen(job.SequenceLength))))
            : 0;
        return (total - localSaving, (attention * (model.Layers + predictionModules)) - localSaving);
    }

    /// <summary>
    /// Bytes the average chip sends on its links per micro-batch, by the collectives' algorithmic volumes (a ring
    /// all-reduce sends <c>2(n-1)/n</c> of its buffer, an all-gather, reduce-scatter or all-to-all <c>(n-1)/n</c>): the
    /// tensor-parallel collectives of every pass through its layers, the context-parallel exchange, the expert dispatch
    /// and combine, the pipeline sends, and the gradient reduction spread over the micro-batches. It prices the links'
    /// energy, not their time, so a deduplicated dispatch is charged as a plain one, an upper bound.
    /// </summary>
    private static Bytes LinkTrafficPerChip(ModelArchitecture model, TrainingJob job, ParallelPlan plan, Bytes activation, Bytes regathered, Bytes pipelineSends, double parametersPerChip, double microBatches, double gradientBytesPerParameter)
    {
        static double Share(int members) => (members - 1) / (double)members;
        var passes = plan.Recompute == RecomputePolicy.Full ? 3 : ReplaysFeedForwardHalf(plan) ? 2.5 : 2;
        var expertPasses = plan.Recompute == RecomputePolicy.Full || plan.Recomputed.HasFlag(RecomputeModules.Experts) ? 3 : 2;
        var layersPerChip = model.Layers / (double)plan.PipelineParallelism;
        var expertLayersPerChip = model.ExpertLayerCount / (double)plan.PipelineParallelism;
        // The model's backward re-gathers (regathered, all its layers') spread over the stages like the layers.
        var tensor = (activation * (4 * Share(plan.TensorParallelism) * passes * layersPerChip)) + (regathered * (Share(plan.TensorParallelism) / plan.PipelineParallelism));
        var context = ContextPass.SentPerLayer(model, job, plan) * layersPerChip;
        var expertTokens = model.MixtureOfExperts is { } experts ? LayerKernels.RoutedTokens(job, plan) * experts.PerToken : 0;
        var expert = Bytes.FromCount(expertTokens * model.HiddenSize * 2.0 * 2 * Share(plan.ExpertParallelism) * expertPasses * expertLayersPerChip);
        var gradients = Bytes.FromCount(parametersPerChip * gradientBytesPerParameter * 2 * Share(plan.DataParallelism) / microBatches);
        return tensor + context + expert + pipelineSends + gradients;
    }

    private static StageCost Slowest(StageCost first, StageCost middle, StageCost last)
    {
        var slowest = first.Total >= last.Total ? first : last;
        return middle.Total > slowest.Total ? middle : slowest;
    }

    /// <summary>
    /// One layer of <paramref name="model"/>, dense or with <paramref name="expertLayer"/> a mixture of experts
    /// (<see cref="LayerKernels.Forward"/>), costed by the overload over its kernels.
    /// A model's local-attention layers differ from its full ones in their attention alone, and a stage's layers are
    /// taken in the model's proportion of the two: exact where the pattern repeats within each stage (GPT-OSS's
    /// alternation on stages of even length), within one layer's attention otherwise. With <paramref name="wholeContext"/>
    /// the layer attends to the whole context whatever the model's pattern (a multi-token prediction module's).
    /// </summary>
    private static StageCost LayerCost(ModelArchitecture model, TrainingJob job, ParallelPlan plan, KernelCost kernels, (Duration Forward, Duration Backward) tensorPasses,
        ContextPass context, Duration expertPass, ExpertOverlap? expertOverlap, bool expertLayer, bool averageLoad, bool wholeContext = false)
    {
        StageCost Of(bool local) => LayerCost(LayerKernels.Forward(model, job, plan, expertLayer, averageLoad, local), kernels, plan, tensorPasses, context, expertPass, expertOverlap);
        var localShare = wholeContext ? 0 : model.LocalAttentionLayerCount / (double)model.Layers;
        return localShare == 0 ? Of(local: false) : (Of(local: false) * (1 - localShare)) + (Of(local: true) * localShare);
    }

    /// <param name="forward">The layer's forward kernels.</param>
    /// <param name="kernels">Their cost model.</param>
    /// <param name="plan">The plan (recompute policy, tensor overlap).</param>
    /// <param name="tensorPasses">The tensor-parallel collectives of one layer's forward pass and of its backward pass.</param>
    /// <param name="context">The context-parallel exchange of one layer; nothing without context parallelism.</param>
    /// <param name="expertPass">The expert all-to-alls of one pass (dispatch and combine); zero for a dense layer.</param>
    /// <param name="expertOverlap">The framework's overlap of the expert all-to-alls where the plan asks for it; null for a dense layer.</param>
    private static StageCost LayerCost(Kernel[] forward, KernelCost kernels, ParallelPlan plan, (Duration Forward, Duration Backward) tensorPasses, ContextPass context, Duration expertPass, ExpertOverlap? expertOverlap)
    {
        var forwardTime = Duration.Zero;
        var backwardTime = Duration.Zero;
        var projectionForward = Duration.Zero;
        var projectionBackward = Duration.Zero;
        var coreForward = Duration.Zero;
        var coreBackward = Duration.Zero;
        // A ring's steps: the first, causal on the chip's own chunks, and each later one, unmasked (LayerKernels).
        var (firstStepForward, firstStepBackward, laterStepForward, laterStepBackward) = (Duration.Zero, Duration.Zero, Duration.Zero, Duration.Zero);
        var expertsForward = Duration.Zero;
        var expertsBackward = Duration.Zero;
        var (forwardWait, backwardWait) = (Duration.Zero, Duration.Zero);
        var (replayed, replayedWait, replayedWork, replayedTraffic) = (Duration.Zero, Duration.Zero, Flops.Zero, Bytes.Zero);
        // The host's launches of the pass, and of what selective recompute replays, where the host runs ahead.
        var (hostForward, hostBackward, hostReplayed) = (Duration.Zero, Duration.Zero, Duration.Zero);
        var forwardWork = Flops.Zero;
        var backwardWork = Flops.Zero;
        var (forwardTraffic, backwardTraffic) = (Bytes.Zero, Bytes.Zero);
        // The work a low-precision recipe keeps in BF16 (fused attention, the output head): forward and backward, the
        // forward alone, and what selective recompute replays of it.
        var (keptWork, keptForward, keptReplayed) = (Flops.Zero, Flops.Zero, Flops.Zero);
        foreach (var kernel in forward)
        {
            if (kernel.RunsAtBf16Rate)
            {
                keptWork += kernel.TotalWork * (1 + kernel.BackwardFactor);
                keptForward += kernel.TotalWork;
                keptReplayed += (kernel.Modules & plan.Recomputed) != RecomputeModules.None ? kernel.TotalWork : Flops.Zero;
            }

            var (time, backward, forwardLaunch, backwardLaunch) = kernels.Times(kernel);
            forwardTime += time;
            backwardTime += backward;
            forwardWait += forwardLaunch;
            backwardWait += backwardLaunch;
            var replays = (kernel.Modules & plan.Recomputed) != RecomputeModules.None;
            if (kernels.HostRunsAhead)
            {
                var host = kernels.HostTimes(kernel);
                (hostForward, hostBackward) = (hostForward + host.Forward, hostBackward + host.Backward);
                hostReplayed += replays ? host.Forward : Duration.Zero;
            }

            if (replays)
            {
                replayed += time;
                replayedWait += forwardLaunch;
                replayedWork += kernel.TotalWork;
                replayedTraffic += kernel.TotalTraffic;
            }
            if (kernel.Kind == KernelKind.Matrix && kernel.Region != KernelRegion.AttentionCore)
            {
                projectionForward += time;
                projectionBackward += backward;
            }

            if (kernel.Region == KernelRegion.Experts)
            {
                expertsForward += time;
                expertsBackward += backward;
            }

            forwardWork += kernel.TotalWork;
            backwardWork += kernel.TotalWork * kernel.BackwardFactor;
            forwardTraffic += kernel.TotalTraffic;
            backwardTraffic += kernel.TotalTraffic * kernel.BackwardFactor;
            if (kernel.Region == KernelRegion.AttentionCore)
            {
                coreForward += time;
                coreBackward += backward;
            }

            if (kernel.Kind == KernelKind.FusedAttention)
            {
                if (kernel.Unmasked)
                {
                    (laterStepForward, laterStepBackward) = (time / kernel.Repeats, backward / kernel.Repeats);
                }
                else
                {
                    (firstStepForward, firstStepBackward) = (time / kernel.Repeats, backward / kernel.Repeats);
                }
            }
        }

        // Ring attention: while a chip computes attention against one key-value block, it sends that block on and
        // receives the next (Megatron-Core overlaps the two); what the block's attention cannot cover shows, at each
        // of the ring's c - 1 sends: behind the first, causal step and the c - 2 unmasked steps after it (the last
        // step sends nothing). The backward pass also sends the blocks' gradients: twice the bytes. The all-gather
        // and all-to-all variants' collectives run before and after attention, exposed.
        var ring = plan.ContextParallelism;
        static Duration Exposed(Duration send, Duration first, Duration later, int ring) =>
            Duration.Max(Duration.Zero, send - first) + (Duration.Max(Duration.Zero, send - later) * (ring - 2));
        var (contextForward, contextBackward) = ring > 1 && plan.ContextCommunication == ContextCommunication.Ring
            ? (Exposed(context.RingStep, firstStepForward, laterStepForward, ring), Exposed(context.RingStep * 2, firstStepBackward, laterStepBackward, ring))
            : (context.Forward, context.Backward);

        // Two collectives per layer in each pass (after attention and after the feed-forward block): all-reduce,
        // or all-gather plus reduce-scatter under sequence parallelism (Korthikanti et al. 2022, figure 5).
        // With overlap (Transformer Engine's userbuffers, XLA's collective matmuls), each collective is split into
        // chunks pipelined with the projection it feeds or follows: only what the projections cannot cover shows.
        var (forwardExposed, backwardExposed) = plan.OverlapTensorCommunication
            ? (Duration.Max(Duration.Zero, tensorPasses.Forward - projectionForward), Duration.Max(Duration.Zero, tensorPasses.Backward - projectionBackward))
            : tensorPasses;
        // A host running ahead waits only where a pass's launches outlast the device's work in it, its kernels and its
        // exposed collectives alike (the per-run floor does not apply: KernelCost.HostRunsAhead). Under the expert
        // overlap the all-to-alls pair with another micro-batch's work and are left out; a recompute's replay is
        // credited with its kernels alone. The wait is the expert launches', so it joins the expert block.
        if (kernels.HostRunsAhead)
        {
            var alltoalls = plan.OverlapExpertCommunication ? Duration.Zero : expertPass;
            (forwardWait, backwardWait, replayedWait) = (
                Duration.Max(Duration.Zero, hostForward - (forwardTime + forwardExposed + contextForward + alltoalls)),
                Duration.Max(Duration.Zero, hostBackward - (backwardTime + backwardExposed + contextBackward + alltoalls)),
                Duration.Max(Duration.Zero, hostReplayed - replayed));
            (forwardTime, backwardTime, replayed) = (forwardTime + forwardWait, backwardTime + backwardWait, replayed + replayedWait);
            (expertsForward, expertsBackward) = (expertsForward + forwardWait, expertsBackward + backwardWait);
        }

        var (recompute, recomputeWork, recomputeTraffic, recomputeCommunication, keptRecompute) = plan.Recompute switch
        {
            RecomputePolicy.Full => (forwardTime, forwardWork, forwardTraffic, forwardExposed, keptForward),
            // Replaying the feed-forward or expert block replays its tensor-parallel collective, one of the layer's two.
            RecomputePolicy.Selective => (replayed, replayedWork, replayedTraffic, ReplaysFeedForwardHalf(plan) ? forwardExposed / 2 : Duration.Zero, keptReplayed),
            _ => (Duration.Zero, Flops.Zero, Bytes.Zero, Duration.Zero, Flops.Zero),
        };

        // The exchange sits inside the attention core: replaying it (full recompute, or selective of core_attn)
        // replays the exchange.
        var contextRecompute = ContextPass.ReplaysExchange(plan) ? contextForward : Duration.Zero;

        // The expert all-to-alls run between the router and the experts and after them: nothing in the layer is left
        // to hide them behind (Megatron-Core's default), unless they overlap another micro-batch's blocks. A recompute
        // of the whole layer or of the expert block replays them, unpaired.
        var expertPasses = plan.Recompute == RecomputePolicy.Full || plan.Recomputed.HasFlag(RecomputeModules.Experts) ? 3 : 2;
        var expertCommunication = plan.OverlapExpertCommunication && expertOverlap is { } overlap
            ? ExpertExchange.Overlapped(overlap, expertPass, expertsForward, expertsBackward, forwardTime - expertsForward, backwardTime - expertsBackward) + (expertPass * (expertPasses - 2))
            : expertPass * expertPasses;

        // The chip's waits for the host's expert launches are shown apart from its compute.
        var recomputeWait = plan.Recompute == RecomputePolicy.Full ? forwardWait : replayedWait;
        return new StageCost(forwardTime + backwardTime - forwardWait - backwardWait, recompute - recomputeWait, forwardExposed + backwardExposed + recomputeCommunication, forwardWork + backwardWork + recomputeWork,
            contextForward + contextBackward + contextRecompute, expertCommunication, forwardTraffic + backwardTraffic + recomputeTraffic, forwardWait + backwardWait, recomputeWait,
            keptWork + keptRecompute, forwardTime + forwardExposed + contextForward + (expertCommunication / expertPasses));
    }

    /// <summary>
    /// The time per micro-batch a stage's pipeline sends take from its compute: all of each send, one per chunk each
    /// way; or, where they overlap (Megatron-Core's <c>overlap_p2p_comm</c> under the interleaved schedule, which posts
    /// a chunk's send and the next receive before running the next chunk), only what outlasts that chunk's forward or
    /// backward pass. The chunks' passes are the stage's spread evenly: its forward (the layers' forward passes with
    /// their exposed communication) and the rest of its time (backward and recompute, and the embedding and the head
    /// whole), each over the virtual stages. That split matters only where a send outlasts a chunk.
    /// </summary>
    private static Duration PipelineSendsExposed(Duration send, StageCost stage, int virtualStages, bool overlapped)
    {
        if (!overlapped)
        {
            return send * (2.0 * virtualStages);
        }

        var forwardChunk = stage.Forward / virtualStages;
        var backwardChunk = (stage.Total - stage.Forward) / virtualStages;
        return (Duration.Max(Duration.Zero, send - forwardChunk) + Duration.Max(Duration.Zero, send - backwardChunk)) * virtualStages;
    }

    /// <summary>
    /// The time per micro-batch that offloading activations adds (<see cref="ParallelPlan.OffloadedLayers"/>): each
    /// offloaded layer's kept activations go to the host and come back, at the chip's host link or its share of the host
    /// memory's bandwidth where that is less (<see cref="AcceleratorSystem.OffloadBandwidth"/>), behind the passes of
    /// the layers Transformer Engine gives each move (<see cref="OffloadSchedule"/>); what those passes cannot cover shows.
    /// <paramref name="layers"/> gives the cost of <c>count</c> layers of which the first <c>dense</c> are dense, as the
    /// stages' costs are summed.
    /// </summary>
    private static Duration OffloadExposed(ParallelPlan plan, AcceleratorSystem system, ModelArchitecture model, TrainingJob job, SavedMultiplyInputs savedInputs, Func<int, int, StageCost> layers)
    {
        if (plan.OffloadedLayers == 0 || system.OffloadBandwidth is not { } rate)
        {
            return Duration.Zero;
        }

        var denseMove = Bytes.FromCount(MemoryModel.ActivationsPerLayer(model, job, plan, savedInputs: savedInputs).Stored) / rate;
        var expertMove = model.ExpertLayerCount > 0 ? Bytes.FromCount(MemoryModel.ActivationsPerLayer(model, job, plan, expertLayer: true, savedInputs).Stored) / rate : denseMove;
        var exposed = Duration.Zero;
        var moved = 0;
        foreach (var (first, count) in OffloadSchedule.Windows(model.Layers, plan.OffloadedLayers))
        {
            var window = layers(model.DenseLayersIn(first, count), count);
            var move = model.DenseLayersIn(moved++, 1) == 1 ? denseMove : expertMove;
            exposed += Duration.Max(Duration.Zero, move - window.Forward) + Duration.Max(Duration.Zero, move - (window.Total - window.Forward));
        }

        return exposed;
    }

    /// <summary>Whether selective recompute replays a layer's feed-forward or expert block, and with it its tensor-parallel collective.</summary>
    private static bool ReplaysFeedForwardHalf(ParallelPlan plan) =>
        (plan.Recomputed & (RecomputeModules.FeedForward | RecomputeModules.Experts | RecomputeModules.SharedExperts)) != RecomputeModules.None;

    /// <summary>
    /// The embedding or the output head: its kernels both ways and its tensor-parallel <paramref name="communication"/>.
    /// The vocabulary-parallel embedding and the head each need one tensor-parallel collective per micro-batch (an
    /// all-reduce), or under sequence parallelism a reduce-scatter one way and an all-gather the other (half a layer's
    /// pass); the head's backward pass also gathers its input again.
    /// </summary>
    private static StageCost BoundaryCost(Kernel[] forward, KernelCost kernels, Duration communication)
    {
        var time = Duration.Zero;
        var work = Flops.Zero;
        var kept = Flops.Zero;
        var traffic = Bytes.Zero;
        foreach (var kernel in forward)
        {
            time += kernels.Forward(kernel) + kernels.Backward(kernel);
            work += kernel.TotalWork * (1 + kernel.BackwardFactor);
            kept += kernel.RunsAtBf16Rate ? kernel.TotalWork * (1 + kernel.BackwardFactor) : Flops.Zero;
            traffic += kernel.TotalTraffic * (1 + kernel.BackwardFactor);
        }

        return new StageCost(time, Duration.Zero, communication, work, MemoryTraffic: traffic, Bf16Work: kept);
    }

    private static Duration TensorCollectivesPerPass(ParallelPlan plan, CollectiveCost collectives, CommunicationGroup tensorGroup, Bytes activation)
    {
        if (plan.TensorParallelism == 1)
        {
            return Duration.Zero;
        }

        return plan.SequenceParallelism
            ? (collectives.Time(CollectiveKind.AllGather, tensorGroup, activation) + collectives.Time(CollectiveKind.ReduceScatter, tensorGroup, activation)) * 2
            : collectives.Time(CollectiveKind.AllReduce, tensorGroup, activation) * 2;
    }

    /// <summary>
    /// Data-parallel communication the compute does not hide. Gradients are reduced in the job's reduction precision
    /// (<paramref name="gradientBytesPerParameter"/>: 4 in FP32, Megatron-Core's default, 2 in BF16). ZeRO-0 all-reduces them once per step, ZeRO-1
    /// reduce-scatters them once and all-gathers the updated weights; ZeRO-2 and 3 keep only a gradient shard, so they
    /// reduce-scatter after every micro-batch, and ZeRO-3 also gathers the weights for every forward and backward.
    /// With overlap, a reduction hides behind the backward pass it follows and a gather behind the forward it precedes,
    /// holding the framework's <paramref name="channels"/> while it runs (<see cref="Exposed"/>).
    /// </summary>
    private static Duration DataParallelExposed(ParallelPlan plan, TrainingJob job, CollectiveCost collectives, CommunicationGroup dataGroup, double parametersPerChip, int shardingDegree, StageCost slowest, double microBatches, double gradientBytesPerParameter, CollectiveChannels? channels)
    {
        if (shardingDegree <= 1 || parametersPerChip <= 0)
        {
            return Duration.Zero;
        }

        var gradientBytes = Bytes.FromCount(parametersPerChip * gradientBytesPerParameter);
        var (forwardWindow, backwardWindow) = OverlapWindows(plan, slowest);
        var (forwardShare, backwardShare) = WindowShares(channels, dataGroup, slowest);
        if (plan.ZeroStage == 0)
        {
            return Exposed(collectives.Time(CollectiveKind.AllReduce, dataGroup, gradientBytes), backwardWindow, parametersPerChip, backwardShare);
        }

        var reduceScatter = collectives.Time(CollectiveKind.ReduceScatter, dataGroup, gradientBytes);
        var allGather = collectives.Time(CollectiveKind.AllGather, dataGroup, Bytes.FromCount(parametersPerChip * Math.Min(2, job.MatrixBytesPerElement)));
        return plan.ZeroStage switch
        {
            1 => Exposed(reduceScatter, backwardWindow, parametersPerChip, backwardShare) + Exposed(allGather, forwardWindow, parametersPerChip, forwardShare),
            2 => (Exposed(reduceScatter, backwardWindow, parametersPerChip, backwardShare) * microBatches) + Exposed(allGather, forwardWindow, parametersPerChip, forwardShare),
            _ => (Exposed(reduceScatter + allGather, backwardWindow, parametersPerChip, backwardShare) + Exposed(allGather, forwardWindow, parametersPerChip, forwardShare)) * microBatches,
        };
    }

    /// <summary>
    /// Under hybrid sharding, each sharding group's gradient shard is all-reduced across the replica groups once per
    /// step, after the last backward pass (hidden behind it where overlap is on).
    /// </summary>
    private static Duration ReplicaReduction(ParallelPlan plan, CollectiveCost collectives, CommunicationGroup replicaGroup, double parametersPerChip, StageCost slowest, double gradientBytesPerParameter, CollectiveChannels? channels)
    {
        if (plan.ReplicaGroups == 1)
        {
            return Duration.Zero;
        }

        var shard = Bytes.FromCount(parametersPerChip * gradientBytesPerParameter / (plan.ZeroStage >= 1 ? plan.ShardingDegree : 1));
        return Exposed(collectives.Time(CollectiveKind.AllReduce, replicaGroup, shard), OverlapWindows(plan, slowest).Backward, parametersPerChip, WindowShares(channels, replicaGroup, slowest).Backward);
    }

    /// <summary>
    /// The share of the chip a hidden collective of <paramref name="group"/> takes from the window it hides behind, the
    /// forward's and the backward's (<see cref="OverlapWindows"/>): its channels' share of the chip, over the part of
    /// each window the chip computes in. Where the chip waits for the host's expert launches its multiprocessors are
    /// idle, and a collective there takes nothing from the computation.
    /// </summary>
    private static (double Forward, double Backward) WindowShares(CollectiveChannels? channels, CommunicationGroup group, StageCost slowest)
    {
        if (channels is null)
        {
            return (0, 0);
        }

        var share = channels.ComputeShare(group.MembersPerSystem, group.CrossesFabric);
        static double Computing(Duration compute, Duration waiting) => compute + waiting > Duration.Zero ? compute / (compute + waiting) : 1;
        return (share * Computing(slowest.Compute, slowest.HostWait),
                share * Computing((slowest.Compute * (2.0 / 3)) + slowest.Recompute, (slowest.HostWait * (2.0 / 3)) + slowest.RecomputeHostWait));
    }

    /// <summary>
    /// The compute a data-parallel collective can hide behind on the slowest stage, per micro-batch: the forward pass
    /// (a third of the forward-and-backward kernels) for a weight gather, the backward pass and its recompute for a
    /// gradient reduction; nothing when overlap is off.
    /// </summary>
    private static (Duration Forward, Duration Backward) OverlapWindows(ParallelPlan plan, StageCost slowest) =>
        plan.OverlapGradientReduction
            ? ((slowest.Compute + slowest.HostWait) / 3, ((slowest.Compute + slowest.HostWait) * (2.0 / 3)) + slowest.Recompute + slowest.RecomputeHostWait)
            : (Duration.Zero, Duration.Zero);

    /// <summary>
    /// What a data-parallel collective adds to the step. Gradients are reduced in buckets as the backward pass produces
    /// them (Megatron-LM's 40M-parameter buckets, FSDP's per-layer units), so the last bucket always waits for the end
    /// of the pass: at least that share of the collective shows, however long the window. The rest shows where it
    /// outlasts the window; where it is hidden, it still holds <paramref name="computeShare"/> of the chip
    /// (<see cref="CollectiveChannels"/>), so the computation it overlaps runs that much longer.
    /// </summary>
    private static Duration Exposed(Duration communication, Duration window, double parametersPerChip, double computeShare)
    {
        var last = communication * Math.Min(1, MemoryModel.GradientBucketParameters / Math.Max(parametersPerChip, 1));
        var hidden = Duration.Min(communication - last, window);
        return Duration.Max(communication - window, last) + (hidden * computeShare);
    }
}
