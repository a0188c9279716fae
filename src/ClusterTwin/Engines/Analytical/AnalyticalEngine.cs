using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Reliability;
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
/// communication that the backward pass cannot hide and the optimizer step. Under a zero-bubble schedule or DualPipe
/// the bubble is theirs (<see cref="PipelineBubble"/>).
/// </remarks>
public static partial class AnalyticalEngine
{
    /// <summary>Simulates one step of <paramref name="scenario"/>, with the band its measurement is expected to fall in.</summary>
    public static TrainingStepResult Simulate(Scenario scenario) => WithBand(scenario, SimulateStep(scenario));

    /// <summary>
    /// <paramref name="result"/>, a step of <paramref name="scenario"/> without its band (<see cref="SimulateStep(Scenario)"/>
    /// or <see cref="StepAndStages"/>), with the band its measurement is expected to fall in, and the energy, cost and
    /// run that follow from it.
    /// </summary>
    public static TrainingStepResult WithBand(Scenario scenario, TrainingStepResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        if (!result.Valid)
        {
            return result;
        }

        // The band is the engine's (the kernels' and the links'), stretched by the centre's throttling. Not held to the
        // power model's floor at either end: the measured runs of chips near their limit (A100, TPU v5e) run faster than
        // that floor at the central power coefficients allows, so it is not sure enough to bound the band (energy.md).
        var unthrottled = result.UnthrottledStepTime;
        var (low, high, sources, parts) = UncertaintyBand.Of(scenario, unthrottled);
        var (energy, cost) = EnergyAndCost(scenario, Activity(result, unthrottled), result.Chips, (low, high));
        var stretch = result.StepTime / unthrottled;
        var run = scenario.Resilience is { } resilience && result.StepsToTrain is { } steps
            ? RunGoodput.Of(resilience, result.Chips, scenario.Model.Parameters, steps, result.StepTime * steps, low * stretch * steps, high * stretch * steps)
            : null;
        return result with { StepTimeLow = low * stretch, StepTimeHigh = high * stretch, BandSources = sources, BandParts = parts, Energy = energy, Cost = cost, Run = run };
    }

    /// <summary>Simulates one step without its uncertainty band: the cheap path for searches and sweeps.</summary>
    public static TrainingStepResult SimulateStep(Scenario scenario) => Step(scenario, null, null, withStages: false).Result;

    /// <summary>
    /// Simulates one step for a plan search, with <paramref name="collectives"/>, the cost model of the scenario's
    /// cluster built once for many layouts of it, or a new one when null; and with <paramref name="memo"/>, a search
    /// thread's memo of the layers' kernels, which many layouts share (<see cref="ForwardKernelMemo"/>), or none. A
    /// search ranks layouts by their step, so the step's scale-out traffic by tier (what a shared network is asked,
    /// <see cref="TrainingStepResult.ScaleOutTrafficPerChip"/>) is left empty: it is not worked out per layout.
    /// </summary>
    internal static TrainingStepResult SimulateStep(Scenario scenario, CollectiveCost? collectives, ForwardKernelMemo? memo = null) =>
        Step(scenario, collectives, memo, withStages: false, scaleOutTraffic: false).Result;

    /// <summary>
    /// The step of <paramref name="scenario"/> and what any pipeline rank of its layout costs on its chips, whatever
    /// layers it holds (<see cref="RankCosting"/>): for a pipeline whose ranks the closed form does not describe, one
    /// over two kinds of chip. The costing is null where the step is not valid.
    /// </summary>
    internal static (TrainingStepResult Result, RankCosting? Costing) Costing(Scenario scenario)
    {
        var (result, _, costing) = Step(scenario, null, null, withStages: true);
        return (result, costing);
    }

    /// <summary>
    /// The step of <paramref name="scenario"/> and, where <paramref name="withStages"/> asks (the event-level engine),
    /// each pipeline rank's own work, which the closed form reduces to the slowest's; null for a plan that does not divide.
    /// </summary>
    private static (TrainingStepResult Result, PipelineStages? Stages, RankCosting? Costing) Step(Scenario scenario, CollectiveCost? collectives, ForwardKernelMemo? memo, bool withStages, bool scaleOutTraffic = true)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var (cluster, efficiency, model, job) = (scenario.Cluster, scenario.Efficiency, scenario.Model, scenario.Job);
        var plan = PlanOf(scenario);
        var problems = PlanChecks.Problems(plan, cluster, model, job, scenario.Framework);
        if (problems.Count > 0)
        {
            return (new TrainingStepResult { Scenario = scenario.Name, Valid = false, Problems = [.. problems], Chips = cluster.ChipCount }, null, null);
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
        // Under hybrid sharding the routed experts' shards are replicated too: the copies reduce their gradients together.
        var expertReplicaGroup = GroupPlacement.Place(cluster, plan.ExpertReplicaGroups, strides.Expert(plan) * plan.ExpertParallelism * plan.ExpertShardingDegree);

        var pipeline = plan.PipelineParallelism;
        var microBatches = job.GlobalBatchSize / (double)(plan.DataParallelism * plan.MicroBatchSize);
        var stages = PipelineLayers.Of(model.Layers, plan);
        var tokens = LayerKernels.Tokens(job, plan);
        var activation = Activation(model, job, plan);

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
        var layer = LayerCosting.Layer(model, job, plan, kernels, (tensorPass, tensorPass + regather), contextPass, Duration.Zero, expertOverlap: null, expertLayer: false, averageLoad: false, memo: memo);
        var expertLayer = model.ExpertLayerCount > 0
            ? LayerCosting.Layer(model, job, plan, kernels, (tensorPass, tensorPass + expertRegather), contextPass, dispatch, scenario.Framework.ExpertOverlap, expertLayer: true, averageLoad: false, memo: memo)
            : layer;
        var embedding = LayerCosting.Boundary(LayerKernels.Embedding(model, job, plan), kernels, tensorPass / 2);
        var head = LayerCosting.Boundary(LayerKernels.OutputHead(model, job, plan), kernels, (tensorPass / 2) + headRegather);
        StageCost Layers(int dense, int count) => (layer * dense) + (expertLayer * (count - dense));

        // The work the cluster executes: the busiest chip sets the time, but the average chip's experts do the work
        // (the same kernels where no chip is busier than another).
        var averageExpertLayer = model.MixtureOfExperts is { } routing && model.ExpertLayerCount > 0 && LayerKernels.LoadImbalance(routing, job, plan) > 1
            ? LayerCosting.Layer(model, job, plan, kernels, (tensorPass, tensorPass + expertRegather), contextPass, dispatch, scenario.Framework.ExpertOverlap, expertLayer: true, averageLoad: true, memo: memo)
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
                : LayerCosting.Layer(model, job, plan, kernels, (tensorPass, tensorPass + (usesExperts ? expertRegather : regather)), contextPass, usesExperts ? dispatch : Duration.Zero,
                    usesExperts ? scenario.Framework.ExpertOverlap : null, usesExperts, averageLoad: false, wholeContext: true, memo: memo);
            predictionLayerHostWait = predictionLayer.HostWait;
            prediction = (LayerCosting.Boundary(LayerKernels.PredictionJoin(model, job, plan), kernels, Duration.Zero) + predictionLayer + head) * predictionModules;
        }

        var (firstLayers, lastLayers) = (Layers(model.DenseLayersIn(0, stages.First), stages.First), Layers(model.DenseLayersIn(model.Layers - stages.Last, stages.Last), stages.Last));
        // Middle ranks differ only in how many dense layers they hold; the cost is linear in that count.
        var (fewestDense, mostDense) = stages.MiddleDenseLayers(model, pipeline);
        var middle = StageCost.Slowest(Layers(mostDense, stages.Middle), Layers(fewestDense, stages.Middle), default);
        var (slowest, forwardShare) = SlowestRank(plan, firstLayers, middle, lastLayers, embedding, head, prediction);
        if (NoRecomputeSlowdown(scenario) is { } slowdown)
        {
            slowest = slowest with { Compute = slowest.Compute * slowdown, WeightGradient = slowest.WeightGradient * slowdown };
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
        var sendsPerMicroBatch = pipelineSend * pipelineSends;
        var perMicroBatch = slowest.Total + sendsPerMicroBatch + offload;
        var rankTime = slowest.Total + offload;
        // The shares are of the rank's passes; exposed offload (a single stage only) adds to them, not to the sends.
        var bubble = PipelineBubble(plan, microBatches, perMicroBatch, sendsPerMicroBatch, rankTime * forwardShare, rankTime * WeightShare(slowest));

        var stageParameters = StageParameters.Of(model, job, plan);
        var parametersPerChip = stageParameters.Heaviest;
        var expertParametersPerChip = stageParameters.HeaviestExperts;
        var reduction = scenario.Framework.GradientReductionFor(job);
        var gradientBytes = reduction.BytesPerElement();
        // Only the chips whose collective library the framework's channels describe (NCCL on NVIDIA's).
        var channels = scenario.Framework.CollectiveChannels is { } described && described.AppliesTo(cluster.Chip.Vendor) ? described : null;
        var afterPipeline = new AfterPipelineCost(plan, job, collectives, dataGroup, replicaGroup, expertDataGroup, expertReplicaGroup, microBatches, gradientBytes, channels, expertSharding,
            MemoryModel.KeepsMasterOnly(plan, scenario.Framework.FullyShardedWeights), kernels);
        var (dataParallel, optimizer, optimizerTraffic) = afterPipeline.Of(parametersPerChip, expertParametersPerChip, slowest);

        var breakdown = new StepBreakdown(
            Compute: slowest.Compute * microBatches,
            Recompute: slowest.Recompute * microBatches,
            TensorParallelCommunication: slowest.TensorCommunication * microBatches,
            PipelineCommunication: pipelinePerMicroBatch * microBatches,
            PipelineBubble: bubble,
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
        var averageExperts = stageParameters.AverageExperts(pipeline);
        var linkParts = LinkTrafficPerChip(model, job, plan, activation, regathered, pipelineMessage * pipelineSends, (averageParameters - averageExperts, averageExperts), microBatches, gradientBytes);
        var linkTraffic = linkParts.Total * microBatches * cluster.ChipCount;
        var scaleOut = !scaleOutTraffic ? [] : linkParts.ScaleOut(cluster.Fabric.Tiers.Length, microBatches, new LinkTrafficGroups(tensorGroup, contextGroup, expertGroup, pipelineGroup, dataGroup, replicaGroup, expertDataGroup, expertReplicaGroup, pipeline, strides.Pipeline, cluster.System.Chips.Value), cluster.Placement);
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
            return (new TrainingStepResult
            {
                Scenario = scenario.Name,
                Valid = false,
                Problems = ["the inputs give a step time or memory that is not a finite number: look for an absurd figure in the catalogue or the scenario"],
                Chips = cluster.ChipCount,
            }, null, null);
        }

        var modelFlops = ModelFlops(model, job);
        var step = breakdown.Total;
        var (energy, cost) = EnergyAndCost(scenario, new StepActivity(step, hardwareWork, memoryTraffic, linkTraffic, job.TokensPerStep, modelFlops, bf16Work), cluster.ChipCount, band: null);
        if (energy is { PowerLimited: true })
        {
            // Chips that would average more than their limit throttle: the step is the energy model's longer one.
            breakdown = breakdown with { PowerThrottling = energy.StepTime - step };
        }

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
            CausalModelFlopsPerStep = ModelFlops(model, job, causalAttention: true),
            HardwareFlopsPerStep = hardwareWork,
            Bf16FlopsPerStep = bf16Work,
            MemoryTrafficPerStep = memoryTraffic,
            LinkTrafficPerStep = linkTraffic,
            ScaleOutTrafficPerChip = scaleOut,
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
        if (!withStages)
        {
            return (result, null, null);
        }

        var costing = new RankCosting(model, Layers, embedding, head + prediction, NoRecomputeSlowdown(scenario), offload, pipelineSend, plan.OverlapsPipelineSends(scenario.Framework), afterPipeline);
        var pipelineStages = new PipelineStages(costing.Ranks(stages, pipeline), plan.VirtualStages, (int)microBatches, pipelineSend, costing.SendsOverlap,
            breakdown.DataParallelCommunication + breakdown.Optimizer, breakdown.Total / (breakdown.Total - breakdown.PowerThrottling), plan.Schedule);
        return (result, pipelineStages, costing);
    }

    /// <summary>One micro-batch's activations between two layers (at least BF16): what tensor-parallel collectives and pipeline sends move.</summary>
    private static Bytes Activation(ModelArchitecture model, TrainingJob job, ParallelPlan plan) =>
        Bytes.FromCount(LayerKernels.Tokens(job, plan) * model.HiddenSize * Math.Max(2, job.Precision.BytesPerElement()));

    /// <summary>
    /// One pipeline send of <paramref name="plan"/>'s activations between neighbouring stages on
    /// <paramref name="cluster"/>'s chips (Megatron's scatter-gather sends one tensor-parallel shard per chip): as the
    /// plan places the stages (<see cref="PipelineSendPath.AsPlaced"/>), or between two chips of one system, or of two.
    /// </summary>
    internal static Duration PipelineSend(Cluster cluster, ChipEfficiency efficiency, ModelArchitecture model, TrainingJob job, ParallelPlan plan, PipelineSendPath path = PipelineSendPath.AsPlaced)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(plan);
        var group = path switch
        {
            PipelineSendPath.WithinSystem => GroupPlacement.Place(cluster with { SystemCount = 1 }, 2, 1),
            PipelineSendPath.AcrossSystems => GroupPlacement.PlaceNeighbours(cluster with { SystemCount = Math.Max(2, cluster.SystemCount) }, 2, cluster.System.Chips.Value),
            _ => GroupPlacement.PlaceNeighbours(cluster, plan.PipelineParallelism, RankStrides.Of(plan).Pipeline),
        };
        return new CollectiveCost(cluster, efficiency).Time(CollectiveKind.PointToPoint, group, Activation(model, job, plan) / plan.TensorParallelism);
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

    private static StepActivity Activity(TrainingStepResult result, Duration stepTime) =>
        new(stepTime, result.HardwareFlopsPerStep, result.MemoryTrafficPerStep, result.LinkTrafficPerStep, result.TokensPerStep, result.ModelFlopsPerStep, result.Bf16FlopsPerStep);

    /// <summary>
    /// The step's energy and cost, their ranges taken with the step time across <paramref name="band"/>; without a band
    /// (the search's cheap path) the ranges are the central figures.
    /// </summary>
    private static (StepEnergy? Energy, StepCost? Cost) EnergyAndCost(Scenario scenario, StepActivity activity, long chips, (Duration Fastest, Duration Slowest)? band)
    {
        var energy = EnergyModel.Of(scenario.Cluster, scenario.Job.Precision, activity, band, scenario.Cost?.PowerUsageEffectiveness);
        // The chips are held (and paid for) for the throttled step where they run at their power limit, at the band's
        // ends as at its centre.
        var held = energy?.StepTime ?? activity.StepTime;
        var stretch = held / activity.StepTime;
        var (fastest, slowest) = band ?? (activity.StepTime, activity.StepTime);
        var cost = scenario.Cost is { } settings ? CostModel.Of(settings, chips, scenario.Cluster.SystemCount, held, fastest * stretch, slowest * stretch, activity.Tokens, energy) : null;
        return (energy, cost);
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
    /// Bytes the average chip sends on its links per micro-batch, by the collectives' algorithmic volumes (a ring
    /// all-reduce sends <c>2(n-1)/n</c> of its buffer, an all-gather, reduce-scatter or all-to-all <c>(n-1)/n</c>): the
    /// tensor-parallel collectives of every pass through its layers, the context-parallel exchange, the expert dispatch
    /// and combine, the pipeline sends, and the gradient reduction and weight gathering spread over the micro-batches
    /// (<see cref="ShardedBytes"/>), the routed experts' over their own sharding group. It prices the links' energy,
    /// and the scale-out network's share of it what a job asks of a shared network, not their time, so a deduplicated
    /// dispatch is charged as a plain one, an upper bound.
    /// </summary>
    private static LinkTrafficParts LinkTrafficPerChip(ModelArchitecture model, TrainingJob job, ParallelPlan plan, Bytes activation, Bytes regathered, Bytes pipelineSends, (double Shared, double Experts) parametersPerChip, double microBatches, double gradientBytesPerParameter)
    {
        static double Share(int members) => (members - 1) / (double)members;
        var passes = plan.Recompute == RecomputePolicy.Full ? 3 : LayerCosting.ReplaysFeedForwardHalf(plan) ? 2.5 : 2;
        var expertPasses = plan.Recompute == RecomputePolicy.Full || plan.Recomputed.HasFlag(RecomputeModules.Experts) ? 3 : 2;
        var layersPerChip = model.Layers / (double)plan.PipelineParallelism;
        var expertLayersPerChip = model.ExpertLayerCount / (double)plan.PipelineParallelism;
        // The model's backward re-gathers (regathered, all its layers') spread over the stages like the layers.
        var tensor = (activation * (4 * Share(plan.TensorParallelism) * passes * layersPerChip)) + (regathered * (Share(plan.TensorParallelism) / plan.PipelineParallelism));
        var context = ContextPass.SentPerLayer(model, job, plan) * layersPerChip;
        var expertTokens = model.MixtureOfExperts is { } experts ? LayerKernels.RoutedTokens(job, plan) * experts.PerToken : 0;
        var expert = Bytes.FromCount(expertTokens * model.HiddenSize * 2.0 * 2 * Share(plan.ExpertParallelism) * expertPasses * expertLayersPerChip);
        var weightBytes = Math.Min(2, job.MatrixBytesPerElement);
        var data = ShardedBytes(plan.ZeroStage, plan.ShardingDegree, parametersPerChip.Shared, gradientBytesPerParameter, weightBytes, microBatches);
        // Under hybrid sharding, each sharding group's gradient shard is all-reduced across the replica groups once a step.
        var replicas = plan.ReplicaGroups > 1
            ? parametersPerChip.Shared * gradientBytesPerParameter / (plan.ZeroStage >= 1 ? plan.ShardingDegree : 1) * 2 * Share(plan.ReplicaGroups)
            : 0;
        var expertData = ShardedBytes(plan.ZeroStage, plan.ExpertShardingDegree, parametersPerChip.Experts, gradientBytesPerParameter, weightBytes, microBatches);
        var expertReplicas = plan.ExpertReplicaGroups > 1
            ? parametersPerChip.Experts * gradientBytesPerParameter / (plan.ZeroStage >= 1 ? plan.ExpertShardingDegree : 1) * 2 * Share(plan.ExpertReplicaGroups)
            : 0;
        return new LinkTrafficParts(tensor, context, expert, pipelineSends, Bytes.FromCount(data / microBatches), Bytes.FromCount(replicas / microBatches), Bytes.FromCount(expertData / microBatches),
            Bytes.FromCount(expertReplicas / microBatches));
    }

    /// <summary>
    /// Bytes per chip per step a sharding group of <paramref name="members"/> sends for <paramref name="parameters"/>,
    /// as <see cref="DataParallelExposure.ShardingGroup"/> times its collectives: ZeRO-0 all-reduces the gradients once;
    /// ZeRO-1 reduce-scatters them once and all-gathers the updated weights; ZeRO-2 reduce-scatters after every
    /// micro-batch and gathers once; ZeRO-3 reduce-scatters and gathers the weights for the backward pass and again
    /// for the forward, every micro-batch.
    /// </summary>
    private static double ShardedBytes(int zeroStage, int members, double parameters, double gradientBytes, double weightBytes, double microBatches)
    {
        if (members <= 1 || parameters <= 0)
        {
            return 0;
        }

        var share = (members - 1) / (double)members;
        return zeroStage switch
        {
            0 => 2 * share * parameters * gradientBytes,
            1 => share * parameters * (gradientBytes + weightBytes),
            2 => share * parameters * ((gradientBytes * microBatches) + weightBytes),
            _ => share * parameters * (gradientBytes + (2 * weightBytes)) * microBatches,
        };
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
}

/// <summary>Where a pipeline send goes (<see cref="AnalyticalEngine.PipelineSend"/>).</summary>
internal enum PipelineSendPath
{
    /// <summary>Between neighbouring stages as the plan places them.</summary>
    AsPlaced,

    /// <summary>Between two chips of one system, over its scale-up domain.</summary>
    WithinSystem,

    /// <summary>Between chips of two systems, over the scale-out network.</summary>
    AcrossSystems,
}
