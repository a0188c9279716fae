using ClusterTwin.Engines;
using ClusterTwin.Reliability;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Cli.Reports;

/// <summary>The JSON document of <c>simulate --json</c>; every field is documented in <c>docs/json-output.md</c>.</summary>
public static class SimulationJson
{
    /// <summary>
    /// The document as an object tree, which <see cref="Json.Serialize(object)"/> writes; with <paramref name="layers"/>
    /// (<c>--kernels</c>) their operators too, for a validation case file its measurement against the prediction, <paramref name="validation"/>,
    /// and the event-level engine's replay, <paramref name="eventLevel"/>, where it has something to say.
    /// </summary>
    public static object Document(Scenario scenario, TrainingStepResult result, object[]? layers = null, ValidationOutcome? validation = null, object? eventLevel = null)
    {
        var cluster = scenario.Cluster;
        var plan = scenario.Plan;
        var breakdown = result.Breakdown;
        var memory = result.Memory;
        return new
        {
            scenario = scenario.Name,
            valid = result.Valid,
            fits = result.Fits,
            problems = result.Problems,
            warnings = result.Warnings,
            cluster = new
            {
                system = cluster.System.Id,
                systems = cluster.SystemCount,
                chip = cluster.Chip.Id,
                chips = cluster.ChipCount,
                ranksPerChip = cluster.Chip.Ranks,
                fabric = cluster.Fabric.Id,
            },
            model = new { id = scenario.Model.Id, parameters = scenario.Model.Parameters, activeParameters = scenario.Model.ActiveParameters },
            training = new { sequenceLength = scenario.Job.SequenceLength, globalBatch = scenario.Job.GlobalBatchSize, precision = scenario.Job.Format.Key, cudaGraphs = ClusterTwin.Workloads.CudaGraphsKeys.Key(scenario.Job.CudaGraphs) },
            plan = Plan(plan),
            stepTimeSeconds = breakdown is null ? (double?)null : result.StepTime.Seconds,
            stepTimeBandSeconds = breakdown is null ? null : new { low = result.StepTimeLow.Seconds, high = result.StepTimeHigh.Seconds },
            tokensPerSecondBand = breakdown is null ? null : new { low = result.TokensPerSecondLow, high = result.TokensPerSecondHigh },
            bandSources = breakdown is null ? (IEnumerable<string>?)null : result.BandSources,
            tokensPerSecond = breakdown is null ? (double?)null : result.TokensPerSecond,
            tokensPerSecondPerChip = breakdown is null ? (double?)null : result.TokensPerSecond / result.Chips,
            mfu = breakdown is null ? (double?)null : result.ModelFlopsUtilization,
            mfuCausal = breakdown is null ? (double?)null : result.CausalModelFlopsUtilization,
            hfu = breakdown is null ? (double?)null : result.HardwareFlopsUtilization,
            microBatches = breakdown is null ? (double?)null : result.MicroBatches,
            modelFlopsPerStep = breakdown is null ? (double?)null : result.ModelFlopsPerStep.Operations,
            breakdown = breakdown is null ? null : Breakdown(breakdown),
            layers,
            validation = validation is null ? null : ValidationReport.CaseJson(validation),
            memoryPerChipBytes = memory?.Total.Count,
            memoryCapacityBytes = memory is null ? (double?)null : result.MemoryCapacity.Count,
            memory = memory is null ? null : new
            {
                weightsBytes = memory.Weights.Count,
                gradientsBytes = memory.Gradients.Count,
                optimizerStateBytes = memory.OptimizerState.Count,
                activationsBytes = memory.Activations.Count,
                communicationBuffersBytes = memory.CommunicationBuffers.Count,
                hostBytes = result.HostMemory.Count,
                hostCapacityBytes = result.HostMemoryCapacity?.Count,
            },
            tokensToTrain = result.TokensToTrain,
            timeToTrainSeconds = result.TimeToTrain?.Seconds,
            chipHours = result.ChipHours,
            run = result.Run is { } run ? Run(run, result) : null,
            eventLevel,
            energyPerStepJoules = result.Energy?.ItPerStep.Joules,
            joulesPerToken = result.Energy?.ItPerToken.Joules,
            averagePowerPerChipWatts = result.Energy?.AveragePowerPerChip.Watts,
            costPerMillionTokens = result.Cost?.PerMillionTokens.Dollars,
            energy = result.Energy is { } energy ? Energy(energy, result.StepsToTrain) : null,
            energyMissing = result.EnergyMissing,
            cost = result.Cost is { } cost ? Cost(cost, result.StepsToTrain) : null,
            costMissing = result.Cost is null ? result.CostMissing ?? "no energy for the owner's electricity" : null,
            calibration = new { family = scenario.Efficiency.Family, provenance = scenario.Efficiency.Provenance },
            framework = new
            {
                id = scenario.Framework.Id,
                name = scenario.Framework.Name,
                expertLaunchSeconds = scenario.Framework.ExpertLaunchFor(scenario.Job).Seconds,
                noRecomputeSlowdown = scenario.Framework.NoRecomputeSlowdown,
                expertOverlap = scenario.Framework.ExpertOverlap is { } overlap ? new { realized = overlap.Realized, communicationComputeShare = overlap.CommunicationComputeShare } : null,
                collectiveChannels = scenario.Framework.CollectiveChannels is { } channels ? new { perMember = channels.PerMember, most = channels.Most, multiprocessors = channels.Multiprocessors, vendors = channels.Vendors } : null,
                fullyShardedWeights = ClusterTwin.Workloads.FullyShardedWeightsKeys.Key(scenario.Framework.FullyShardedWeights),
                gradientReduction = ClusterTwin.Workloads.GradientReductionKeys.Key(scenario.Framework.GradientReductionFor(scenario.Job)),
            },
        };
    }

    /// <summary>The <c>energy</c> object: power and energy from the chips to the facility, in watts and joules.</summary>
    public static object Energy(ClusterTwin.Economics.StepEnergy energy, double? steps)
    {
        ArgumentNullException.ThrowIfNull(energy);
        return new
        {
            averagePowerPerChipWatts = energy.AveragePowerPerChip.Watts,
            powerLimitWatts = energy.PowerLimit.Watts,
            powerLimited = energy.PowerLimited,
            throttledStepTimeSeconds = energy.PowerLimited ? energy.StepTime.Seconds : (double?)null,
            clusterItPowerWatts = energy.ClusterItPower.Watts,
            clusterFacilityPowerWatts = energy.ClusterFacilityPower.Watts,
            powerUsageEffectiveness = energy.PowerUsageEffectiveness,
            energyPerStepJoules = energy.ItPerStep.Joules,
            energyPerStepBandJoules = new { low = energy.ItPerStepLow.Joules, high = energy.ItPerStepHigh.Joules },
            facilityEnergyPerStepJoules = energy.FacilityPerStep.Joules,
            chipsJoules = new
            {
                idle = energy.Chips.Idle.Joules,
                matrix = energy.Chips.Matrix.Joules,
                memory = energy.Chips.Memory.Joules,
                links = energy.Chips.Links.Joules,
            },
            systemsJoules = energy.Systems.Joules,
            networkJoules = energy.Network.Joules,
            joulesPerToken = energy.ItPerToken.Joules,
            joulesPerTokenBand = new { low = energy.ItPerTokenLow.Joules, high = energy.ItPerTokenHigh.Joules },
            facilityJoulesPerToken = energy.FacilityPerToken.Joules,
            modelFlopsPerJoule = energy.ModelFlopsPerJoule,
            runItMegawattHours = steps is { } count ? energy.ItPerStep.Joules * count / 3.6e9 : (double?)null,
            runFacilityMegawattHours = steps is { } all ? energy.FacilityPerStep.Joules * all / 3.6e9 : (double?)null,
        };
    }

    /// <summary>The whole run with its interruptions (docs/json-output.md, <c>run</c>), its cost and energy where <paramref name="result"/> has them.</summary>
    public static object Run(RunGoodput run, TrainingStepResult result)
    {
        var steps = result.StepsToTrain ?? 0;
        return new
        {
            faultFreeSeconds = run.FaultFree.Seconds,
            expectedSeconds = run.Expected?.Seconds,
            expectedRangeSeconds = run.ExpectedLow is null && run.ExpectedHigh is null ? null : new { low = run.ExpectedLow?.Seconds, high = run.ExpectedHigh?.Seconds },
            completes = run.Expected is not null,
            whyNever = run.WhyNever,
            slowEndWhyNever = run.Slowest?.WhyNever,
            goodput = run.Goodput,
            meanTimeBetweenInterruptionsSeconds = run.MeanTimeBetweenInterruptions.Seconds,
            expectedInterruptions = run.ExpectedInterruptions,
            checkpointIntervalSeconds = run.CheckpointInterval.Seconds,
            checkpointIntervalSetBy = RunText.IntervalBound(run.IntervalBound),
            optimalCheckpointIntervalSeconds = run.OptimalInterval.Seconds,
            namedCheckpointIntervalSeconds = run.NamedInterval?.Seconds,
            checkpointBytes = run.CheckpointSize.Count,
            checkpointStallSeconds = run.CheckpointStall.Seconds,
            checkpointSaveSeconds = run.CheckpointSave.Seconds,
            checkpointSaveSetBy = run.SaveBoundByStorage ? "storage" : "chip",
            restartSeconds = run.Restart.Seconds,
            costDollars = result.Cost is { } cost ? run.CostOf(cost.PerStep, steps)?.Dollars : null,
            itEnergyJoules = result.Energy is { } energy ? run.EnergyOf(energy.ItPerStep, steps)?.Joules : null,
            interruptionRateSource = run.RateSource,
            simulated = run.Simulated is { } simulated ? Simulated(simulated, run.MeanTimeBetweenInterruptions) : null,
        };
    }

    /// <summary>The runs drawn event by event (docs/json-output.md, <c>run.simulated</c>); the figures of the finished runs, null where none finished.</summary>
    private static object Simulated(SimulatedRuns runs, Duration meanTimeBetweenInterruptions)
    {
        var any = !runs.WallTimes.IsEmpty;
        return new
        {
            runs = runs.Count,
            requested = runs.Requested,
            seed = runs.Seed,
            unfinished = runs.Unfinished,
            meanSeconds = any ? runs.Mean.Seconds : (double?)null,
            standardErrorSeconds = any ? runs.StandardError.Seconds : (double?)null,
            percentileSeconds = any ? new { p10 = runs.Percentile(0.1).Seconds, p50 = runs.Percentile(0.5).Seconds, p90 = runs.Percentile(0.9).Seconds, p99 = runs.Percentile(0.99).Seconds } : null,
            shortestSeconds = any ? runs.WallTimes[0].Seconds : (double?)null,
            longestSeconds = any ? runs.WallTimes[^1].Seconds : (double?)null,
            goodput = any ? runs.Goodput : (double?)null,
            meanInterruptions = any ? runs.MeanInterruptions : (double?)null,
            meanStalledSeconds = any ? runs.MeanStalled.Seconds : (double?)null,
            meanRestartingSeconds = any ? runs.MeanRestarting.Seconds : (double?)null,
            meanLostSeconds = any ? runs.MeanLost.Seconds : (double?)null,
            spares = runs.Spares is { } spares
                ? new { count = spares.Count, repairSeconds = spares.RepairTime.Seconds, replacementShare = spares.ReplacementShare.Value, inRepairOnAverage = spares.InRepair(meanTimeBetweenInterruptions) }
                : null,
            meanWaitingForSparesSeconds = any && runs.Spares is not null ? runs.MeanWaitingForSpares.Seconds : (double?)null,
            runsThatWaited = runs.Spares is not null ? runs.RunsThatWaited : (int?)null,
        };
    }

    /// <summary>The <c>cost</c> object: the price used and the cost per step, per million tokens and per run, in US dollars.</summary>
    public static object Cost(ClusterTwin.Economics.StepCost cost, double? steps)
    {
        ArgumentNullException.ThrowIfNull(cost);
        return new
        {
            basis = cost.Basis.ToString().ToLowerInvariant(),
            price = cost.Description,
            priceIds = cost.PriceIds,
            priceStatus = cost.PriceStatus.ToString().ToLowerInvariant(),
            perChipHourDollars = cost.PerChipHour.DollarsPerSecond * 3600,
            perStepDollars = cost.PerStep.Dollars,
            perStepBandDollars = new { low = cost.PerStepLow.Dollars, high = cost.PerStepHigh.Dollars },
            electricityPerStepDollars = cost.Electricity.Dollars,
            costPerMillionTokens = cost.PerMillionTokens.Dollars,
            costPerMillionTokensBand = new { low = cost.PerMillionTokensLow.Dollars, high = cost.PerMillionTokensHigh.Dollars },
            runDollars = steps is { } count ? cost.PerStep.Dollars * count : (double?)null,
        };
    }

    /// <summary>The <c>plan</c> object: the layout's parameters.</summary>
    public static object Plan(ClusterTwin.Parallelism.ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return new
        {
            tensor = plan.TensorParallelism,
            context = plan.ContextParallelism,
            contextCommunication = plan.ContextParallelism > 1 ? ClusterTwin.Parallelism.ContextCommunicationKeys.Key(plan.ContextCommunication) : null,
            expert = plan.ExpertParallelism,
            pipeline = plan.PipelineParallelism,
            data = plan.DataParallelism,
            virtualStages = plan.VirtualStages,
            schedule = ClusterTwin.Parallelism.PipelineScheduleKeys.Key(plan.Schedule),
            microBatch = plan.MicroBatchSize,
            sequenceParallel = plan.SequenceParallelism,
            recompute = plan.Recompute.ToString().ToLowerInvariant(),
            recomputeModules = plan.Recompute == ClusterTwin.Parallelism.RecomputePolicy.Selective ? ClusterTwin.Parallelism.RecomputeModuleNames.Names(plan.RecomputeModules).ToArray() : [],
            zero = plan.ZeroStage,
            order = ClusterTwin.Parallelism.RankOrderKeys.Key(plan.Order),
            offloadedLayers = plan.OffloadedLayers,
            overlapPipelineCommunication = plan.OverlapPipelineCommunication,
        };
    }

    /// <summary>The <c>breakdown</c> object: the step's parts in seconds.</summary>
    public static object Breakdown(StepBreakdown breakdown)
    {
        ArgumentNullException.ThrowIfNull(breakdown);
        return new
        {
            computeSeconds = breakdown.Compute.Seconds,
            recomputeSeconds = breakdown.Recompute.Seconds,
            hostLaunchWaitSeconds = breakdown.HostLaunchWait.Seconds,
            activationOffloadSeconds = breakdown.ActivationOffload.Seconds,
            tensorParallelCommunicationSeconds = breakdown.TensorParallelCommunication.Seconds,
            contextParallelCommunicationSeconds = breakdown.ContextParallelCommunication.Seconds,
            expertParallelCommunicationSeconds = breakdown.ExpertParallelCommunication.Seconds,
            pipelineCommunicationSeconds = breakdown.PipelineCommunication.Seconds,
            pipelineBubbleSeconds = breakdown.PipelineBubble.Seconds,
            dataParallelCommunicationSeconds = breakdown.DataParallelCommunication.Seconds,
            optimizerSeconds = breakdown.Optimizer.Seconds,
            powerThrottlingSeconds = breakdown.PowerThrottling.Seconds,
        };
    }
}
