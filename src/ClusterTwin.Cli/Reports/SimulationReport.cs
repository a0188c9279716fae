using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using ClusterTwin.Reliability;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The human-readable report of <c>simulate</c>.</summary>
public static class SimulationReport
{
    /// <summary>
    /// The training framework, under a mixture of experts the host's time to launch each expert multiply (the least
    /// time of each, or under drop-and-pad routing a bound on each layer's pass) or whole-layer CUDA graphs, its fitted
    /// slowdown where the plan keeps activations (anything but full recompute), an expert layer's unfused token
    /// permutation, and gradients reduced in anything but the default FP32.
    /// </summary>
    private static string FrameworkLine(Scenario scenario)
    {
        var framework = scenario.Framework;
        var launch = framework.ExpertLaunchFor(scenario.Job);
        var expert = scenario.Model.MixtureOfExperts is not null;
        var line = !expert || launch <= ClusterTwin.Units.Duration.Zero ? framework.Name
            : scenario.Job.ExpertCapacityFactor is null ? $"{framework.Name}; each expert multiply takes at least {launch} (the host launches it)"
            : $"{framework.Name}; the host takes {launch} to launch each expert multiply, running ahead of the device (drop-and-pad routing): a layer's pass takes at least its launches";
        if (expert && scenario.Job.CudaGraphs == CudaGraphs.WholeLayers)
        {
            line += "; whole layers run as CUDA graphs (nothing launched per expert)";
        }
        if (AnalyticalEngine.NoRecomputeSlowdown(scenario) is { } slowdown)
        {
            line += $"; its kernels take {slowdown.ToString("0.###", CultureInfo.InvariantCulture)}x their time without full recompute" +
                    (framework.NoRecomputeFit is { } fit ? $" (fitted on {fit.Figures} published runs)" : string.Empty);
        }

        return line + RoutingNote(scenario) + ReductionNote(scenario);
    }

    /// <summary>"; tokens permuted without fused kernels (...)" for a mixture of experts that does so, else empty.</summary>
    internal static string RoutingNote(Scenario scenario) =>
        scenario.Model.MixtureOfExperts is not null && !scenario.Job.FusedTokenPermutation && scenario.Framework.UnfusedTokenRouting is { } routing
            ? $"; tokens permuted without fused kernels ({routing.ToString("0.##", CultureInfo.InvariantCulture)}x the fused kernels' time, measured)"
            : string.Empty;

    /// <summary>"; gradients reduced in BF16" where the job's gradients are not reduced in the default FP32, else empty.</summary>
    internal static string ReductionNote(Scenario scenario)
    {
        var reduction = scenario.Framework.GradientReductionFor(scenario.Job);
        return reduction == GradientReduction.Fp32 ? string.Empty : $"; gradients reduced in {GradientReductionKeys.Name(reduction)}";
    }

    /// <summary>Writes the report of <paramref name="result"/>; an invalid plan's problems name <paramref name="source"/>, the scenario's file.</summary>
    public static void Write(IAnsiConsole console, Scenario scenario, TrainingStepResult result, string? source = null)
    {
        var cluster = scenario.Cluster;
        var plan = scenario.Plan;
        console.Write(new Rule($"[bold]{Markup.Escape(scenario.Name)}[/]").LeftJustified());
        WriteCluster(console, cluster);
        console.MarkupLineInterpolated($"Model:   {scenario.Model.Name} ({Format.Number(scenario.Model.Parameters)} parameters), sequence {scenario.Job.SequenceLength:N0}, global batch {scenario.Job.GlobalBatchSize:N0}, {scenario.Job.Format.Key.ToUpperInvariant()}");
        console.MarkupLineInterpolated($"Plan:    {PlanLine(scenario.Model, plan, scenario.Framework)}{PlanDescription.Ranks(cluster.Chip.Ranks, plan.TensorParallelism)}");
        console.MarkupLineInterpolated($"Framework: {FrameworkLine(scenario)}");
        console.WriteLine();

        if (!result.Valid)
        {
            console.MarkupLineInterpolated($"[red bold]The plan{(source is null ? string.Empty : $" in {source}")} is invalid:[/]");
            foreach (var problem in result.Problems)
            {
                console.MarkupLineInterpolated($"  [red]-[/] {problem}");
            }

            return;
        }

        var breakdown = result.Breakdown!;
        var step = breakdown.Total;
        var table = new Table().Border(TableBorder.Rounded).Title("Step time breakdown");
        table.AddColumn("Part").AddColumn(new TableColumn("Time").RightAligned()).AddColumn(new TableColumn("Share").RightAligned());
        foreach (var (name, part) in breakdown.Parts())
        {
            table.AddRow(name, part.ToString(), Format.Percent(part / step));
        }

        table.AddRow("[bold]step[/]", $"[bold]{step}[/]", "100.0%");
        table.AddRow("[grey]expected range (P10-P90)[/]", $"[grey]{result.StepTimeLow} - {result.StepTimeHigh}[/]", string.Empty);
        console.Write(table);

        var throughput = new Table().Border(TableBorder.Rounded).Title("Throughput");
        throughput.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        throughput.AddRow("tokens per second", $"{Format.Number(result.TokensPerSecond)} ({Format.Number(result.TokensPerSecondLow)} - {Format.Number(result.TokensPerSecondHigh)})");
        throughput.AddRow("tokens per second per chip", Format.Number(result.TokensPerSecond / result.Chips));
        throughput.AddRow("MFU (Megatron's count: full attention)", Format.Percent(result.ModelFlopsUtilization));
        throughput.AddRow("MFU, causal attention (NeMo's count)", Format.Percent(result.CausalModelFlopsUtilization));
        throughput.AddRow("HFU (every FLOP run, recompute too)", Format.Percent(result.HardwareFlopsUtilization));
        throughput.AddRow("micro-batches per step", Format.Number(result.MicroBatches));
        if (result.TimeToTrain is { } time && result.ChipHours is { } chipHours)
        {
            throughput.AddRow($"time to train {Format.Number(result.TokensToTrain!.Value)} tokens", time.Seconds >= 86400 ? $"{time.Seconds / 86400:0.0} days" : time.ToString());
            throughput.AddRow("chip-hours", Format.Number(chipHours));
        }

        console.Write(throughput);
        if (result.Run is { } run)
        {
            WriteRun(console, result, run);
        }

        var memory = result.Memory!;
        var memoryTable = new Table().Border(TableBorder.Rounded).Title("Memory per chip (most loaded stage)");
        memoryTable.AddColumn("Part").AddColumn(new TableColumn("Size").RightAligned());
        memoryTable.AddRow("weights", Quantity.FormatLike(memory.Weights, result.MemoryCapacity));
        memoryTable.AddRow("gradients", Quantity.FormatLike(memory.Gradients, result.MemoryCapacity));
        memoryTable.AddRow("optimizer state", Quantity.FormatLike(memory.OptimizerState, result.MemoryCapacity));
        memoryTable.AddRow("activations", Quantity.FormatLike(memory.Activations, result.MemoryCapacity));
        memoryTable.AddRow("communication buffers", Quantity.FormatLike(memory.CommunicationBuffers, result.MemoryCapacity));
        static string Verdict(bool fits) => fits ? "[green]fits[/]" : "[red]does not fit[/]";
        memoryTable.AddRow("[bold]total[/]", $"[bold]{Quantity.FormatLike(memory.Total, result.MemoryCapacity)}[/] of {result.MemoryCapacity} ({Format.Percent(memory.Total / result.MemoryCapacity)}) {Verdict(memory.Total <= result.MemoryCapacity)}");
        if (result.HostMemory > Bytes.Zero)
        {
            memoryTable.AddRow("offloaded to the host", result.HostMemoryCapacity is { } share
                ? $"{Quantity.FormatLike(result.HostMemory, result.MemoryCapacity)} of the chip's {Quantity.FormatLike(share, result.MemoryCapacity)} share ({Format.Percent(result.HostMemory / share)}) {Verdict(result.HostMemoryFits)}"
                : $"{Quantity.FormatLike(result.HostMemory, result.MemoryCapacity)} (the catalogue gives no host memory to check it against)");
        }
        console.Write(memoryTable);
        WriteEnergyAndCost(console, result);

        foreach (var problem in result.Problems)
        {
            console.MarkupLineInterpolated($"[red]![/] {problem}");
        }

        foreach (var warning in result.Warnings)
        {
            console.MarkupLineInterpolated($"[yellow]note:[/] {warning}");
        }

        var efficiency = scenario.Efficiency;
        console.MarkupLineInterpolated($"[grey]Efficiency curves: {efficiency.Family}, {Format.Calibration(efficiency, brief: false)} ({Truncate(efficiency.Provenance)})[/]");
        console.MarkupLineInterpolated($"[grey]Range from: {string.Join("; ", result.BandSources)}[/]");
    }

    /// <summary>The whole run with its interruptions, checkpoints and restarts (docs/reliability.md).</summary>
    private static void WriteRun(IAnsiConsole console, TrainingStepResult result, RunGoodput run)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("The run with interruptions (docs/reliability.md)");
        table.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        table.AddRow("expected time to train (range)", RunText.Expected(run));
        table.AddRow("goodput (fault-free time over expected)", RunText.Goodput(run));
        table.AddRow("mean time between interruptions", RunLength.Of(run.MeanTimeBetweenInterruptions));
        if (run.ExpectedInterruptions is { } count)
        {
            table.AddRow("interruptions expected", RunText.Count(count));
        }

        if (run.Simulated is { } simulated)
        {
            table.AddRow("simulated runs, event by event: mean (P10 - P90)", RunText.Simulated(simulated));
            table.AddRow("simulated: goodput, interruptions a run", simulated.WallTimes.IsEmpty ? "-" : $"{Format.Percent(simulated.Goodput)}, {RunText.Count(simulated.MeanInterruptions)}");
            table.AddRow("simulated: where the mean run's time goes", simulated.WallTimes.IsEmpty ? "-" : RunText.SimulatedParts(simulated));
            if (simulated.Spares is { } spares)
            {
                table.AddRow("spare servers", RunText.Spares(spares, run.MeanTimeBetweenInterruptions));
                table.AddRow("simulated: waiting for a spare", RunText.SpareWait(simulated));
            }

            table.AddRow("simulated: runs drawn", RunText.SimulatedCount(simulated));
        }

        table.AddRow("checkpoint every", RunText.Interval(run));
        table.AddRow("checkpoint: state, stall, save behind training", RunText.Checkpoint(run));
        table.AddRow("restart", RunLength.Of(run.Restart));
        if (result.StepsToTrain is { } steps && result.Cost is { } cost)
        {
            table.AddRow("whole run's cost, the chips held throughout", run.CostOf(cost.PerStep, steps) is { } money
                ? RunText.Cost(money, run.Fastest?.CostOf(cost.PerStepLow, steps), run.Slowest?.CostOf(cost.PerStepHigh, steps))
                : "never ends");
        }

        table.AddRow("[grey]interruption rate from[/]", $"[grey]{Markup.Escape(run.RateSource)}[/]");
        console.Write(table);
    }

    /// <summary>The energy and cost table, or the reason each is missing.</summary>
    private static void WriteEnergyAndCost(IAnsiConsole console, TrainingStepResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title("Energy and cost");
        table.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        if (result.Energy is { } energy)
        {
            var limited = energy.PowerLimited ? $" [red](at its limit: throttled, {result.Breakdown!.PowerThrottling} longer a step)[/]" : string.Empty;
            table.AddRow("average power per chip", $"{energy.AveragePowerPerChip} of {energy.PowerLimit}{limited}");
            table.AddRow("cluster power (IT / facility)", $"{energy.ClusterItPower} / {energy.ClusterFacilityPower} (PUE {energy.PowerUsageEffectiveness:0.00})");
            table.AddRow("energy per step (IT)", $"{energy.ItPerStep} ({energy.ItPerStepLow} - {energy.ItPerStepHigh})");
            table.AddRow("  chips: idle / matrix / memory / links", $"{energy.Chips.Idle} / {energy.Chips.Matrix} / {energy.Chips.Memory} / {energy.Chips.Links}");
            table.AddRow("  hosts and switches / network", $"{energy.Systems} / {energy.Network}");
            table.AddRow("energy per token (IT / facility)", $"{energy.ItPerToken} ({energy.ItPerTokenLow} - {energy.ItPerTokenHigh}) / {energy.FacilityPerToken}");
            table.AddRow("performance per watt (model FLOPs, IT)", $"{Format.Number(energy.ModelFlopsPerJoule / 1e9)} GFLOPS/W");
            if (result.StepsToTrain is { } steps)
            {
                table.AddRow("whole run, fault-free (IT / facility)", $"{energy.ItPerStep * steps} / {energy.FacilityPerStep * steps}");
            }
        }
        else
        {
            table.AddRow("energy", $"[grey]not modelled: {Markup.Escape(result.EnergyMissing ?? "unknown")}[/]");
        }

        if (result.Cost is { } cost)
        {
            var status = cost.PriceStatus is Hardware.FigureStatus.Official ? string.Empty : $" [yellow]({cost.PriceStatus.ToString().ToLowerInvariant()})[/]";
            table.AddRow("price", $"{Markup.Escape(cost.Description)}{status}");
            table.AddRow("per chip-hour", cost.PerChipHour.ToString());
            table.AddRow("cost per step", $"{cost.PerStep} ({cost.PerStepLow} - {cost.PerStepHigh})");
            table.AddRow("cost per million tokens", $"{cost.PerMillionTokens} ({cost.PerMillionTokensLow} - {cost.PerMillionTokensHigh})");
            if (result.StepsToTrain is { } steps)
            {
                table.AddRow("whole run, fault-free", $"{cost.PerStep * steps} ({cost.PerStepLow * steps} - {cost.PerStepHigh * steps})");
            }
        }
        else
        {
            table.AddRow("cost", $"[grey]not worked out: {Markup.Escape(result.CostMissing ?? "no energy for the owner's electricity")}[/]");
        }

        console.Write(table);
    }

    private static string Truncate(string text) => text.Length <= 110 ? text : text[..107] + "...";
    /// <summary>The line naming the cluster: systems, chips and fabric.</summary>
    public static void WriteCluster(IAnsiConsole console, Cluster cluster)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(cluster);
        // A scenario that names no fabric (serving replicas, each in its own system) has none to name.
        var fabric = cluster.Fabric.Id == ScenarioLoader.NoFabric ? "with no scale-out fabric" : $"on {cluster.Fabric.Name}";
        console.MarkupLineInterpolated($"Cluster: {cluster.SystemCount:N0} x {cluster.System.Name} = [bold]{cluster.ChipCount:N0}[/] {cluster.Chip.Name} {fabric}");
    }

    /// <summary>The plan in words: degrees, expert dispatch, pipeline placement where written, and the options.</summary>
    private static string PlanLine(ModelArchitecture model, ParallelPlan plan, TrainingFramework framework)
    {
        var context = plan.ContextParallelism > 1 ? $" x CP {PlanDescription.Context(plan)}" : string.Empty;
        var expert = plan.ExpertParallelism > 1
            ? $" (EP {plan.ExpertParallelism}, {(plan.ExpertDispatch == ExpertDispatch.Deduplicated ? "deduplicated" : "all-to-all")} dispatch{(plan.OverlapExpertCommunication ? ", overlapped" : string.Empty)})"
            : string.Empty;
        // A placement that does not place (counts beyond the model's layers) is shown as given: the plan's problems say why.
        var stages = PipelineLayers.Of(model.Layers, plan);
        var placement = plan.FirstStageLayers is null && plan.LastStageLayers is null ? string.Empty
            : stages.Places ? $"; {stages.Describe(plan.PipelineParallelism)}"
            : $"; first-stage layers {plan.FirstStageLayers?.ToString(CultureInfo.InvariantCulture) ?? "even"}, last-stage layers {plan.LastStageLayers?.ToString(CultureInfo.InvariantCulture) ?? "even"}";
        var sends = plan.OverlapsPipelineSends(framework) ? ", sends overlapped" : string.Empty;
        var schedule = plan.Schedule == PipelineScheduleKind.OneForwardOneBackward ? string.Empty : $"{PipelineScheduleKeys.Key(plan.Schedule)} schedule, ";
        return $"TP {plan.TensorParallelism}{context}{expert} x PP {plan.PipelineParallelism} ({schedule}virtual {plan.VirtualStages}{placement}{sends}) x DP {plan.DataParallelism:N0}, " +
               $"micro-batch {plan.MicroBatchSize}, sequence parallel {(plan.SequenceParallelism ? "on" : "off")}, recompute {RecomputeModuleNames.Describe(plan)}, " +
               (plan.OffloadedLayers > 0 ? $"activations of {plan.OffloadedLayers} layers offloaded to the host, " : string.Empty) +
               $"ZeRO {plan.ZeroStage}, ranks ordered {RankOrderKeys.Key(plan.Order)}";
    }
}
