using ClusterTwin.Engines;
using ClusterTwin.Engines.Mixed;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>
/// <c>simulate</c>'s report of a pipeline over two kinds of chip: each kind's stages, the step replayed over them, and
/// the same job on each kind alone beside it.
/// </summary>
public static class MixedPipelineReport
{
    /// <summary>The same job on one kind of chip alone: its result, or why it has none.</summary>
    /// <param name="Chip">The chip.</param>
    /// <param name="Result">Its step; null where the chips are not a cluster.</param>
    /// <param name="Problem">Why there is no result, or null.</param>
    public sealed record Alone(string Chip, TrainingStepResult? Result, string? Problem);

    /// <summary>Writes the report.</summary>
    public static void Write(IAnsiConsole console, MixedPipelineResult result, IReadOnlyList<Alone> alone)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(alone);
        console.Write(new Rule($"[bold]{Markup.Escape(result.Scenario)}[/]: a pipeline over two kinds of chip").LeftJustified());
        if (!result.Valid)
        {
            foreach (var problem in result.Problems)
            {
                console.MarkupLine($"[red]cannot run:[/] {Markup.Escape(problem)}");
            }

            return;
        }

        var kinds = new Table().Border(TableBorder.Rounded).Title("Each kind of chip's stages");
        kinds.AddColumn("Stages").AddColumn("Chips").AddColumn("Framework").AddColumn(new TableColumn("Layers per stage").RightAligned())
            .AddColumn(new TableColumn("Slowest stage, per micro-batch").RightAligned()).AddColumn(new TableColumn("Memory per chip").RightAligned())
            .AddColumn(new TableColumn("Share of the work").RightAligned()).AddColumn(new TableColumn("After the pipeline").RightAligned())
            .AddColumn(new TableColumn("Power per chip").RightAligned()).AddColumn(new TableColumn("Cost per step").RightAligned());
        foreach (var pool in result.Pools)
        {
            var fits = pool.Fits ? string.Empty : " [red](does not fit)[/]";
            kinds.AddRow(StageRange(pool), $"{Format.Count(pool.Chips)} {Markup.Escape(pool.Chip)}", Markup.Escape(pool.Framework), Layers(pool), pool.SlowestStage.ToString(),
                $"{pool.Memory.Total} of {pool.MemoryCapacity}{fits}", Format.Percent(pool.WorkShare), pool.AfterPipeline.ToString(),
                pool.Energy?.AveragePowerPerChip.ToString() ?? "-", pool.Cost?.PerStep.ToString() ?? "-");
        }

        console.Write(kinds);
        var summary = new Table().Border(TableBorder.Rounded).Title("The step, both kinds together");
        summary.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        var timeline = result.Timeline!;
        summary.AddRow("step time (replayed pass by pass)", result.StepTime.ToString());
        summary.AddRow("pipeline: fill, steady state and drain", timeline.Pipeline.ToString());
        summary.AddRow("idle in the pipeline: busiest stage / average stage", $"{Format.Percent(timeline.SlowestRankIdleShare)} / {Format.Percent(timeline.MeanIdleShare)}");
        summary.AddRow("layers placed", result.LayersBalanced ? "balanced by the engine (the slowest stage as fast as it can be)" : "as the scenario gives them");
        if (result.PowerStretch > 1)
        {
            summary.AddRow("power limit", $"stretches the step by {EventLevelReport.Signed(result.PowerStretch - 1)}");
        }

        summary.AddRow("tokens per second", Format.Number(result.TokensPerSecond));
        summary.AddRow("MFU (against both kinds' peaks)", Format.Percent(result.ModelFlopsUtilization));
        summary.AddRow("facility energy per token", result.FacilityEnergyPerStep is { } energy ? (energy / result.TokensPerStep).ToString() : "-");
        summary.AddRow("cost per million tokens", result.CostPerStep is { } cost ? (cost * (1e6 / result.TokensPerStep)).ToString() : "-");
        console.Write(summary);

        var weighed = new Table().Border(TableBorder.Rounded).Title("The same job and plan on each kind alone, as many chips");
        weighed.AddColumn("Chips").AddColumn(new TableColumn("Step time").RightAligned()).AddColumn(new TableColumn("Tokens per second").RightAligned())
            .AddColumn(new TableColumn("MFU").RightAligned()).AddColumn(new TableColumn("Memory per chip").RightAligned())
            .AddColumn(new TableColumn("Energy per token").RightAligned()).AddColumn(new TableColumn("Cost per million tokens").RightAligned());
        weighed.AddRow("both kinds (this scenario)", result.StepTime.ToString(), Format.Number(result.TokensPerSecond), Format.Percent(result.ModelFlopsUtilization),
            result.Pools.All(pool => pool.Fits) ? "fits" : "[red]does not fit[/]", result.FacilityEnergyPerStep is { } both ? (both / result.TokensPerStep).ToString() : "-",
            result.CostPerStep is { } bothCost ? (bothCost * (1e6 / result.TokensPerStep)).ToString() : "-");
        foreach (var (chip, step, problem) in alone)
        {
            if (step is not { Valid: true })
            {
                weighed.AddRow($"{Markup.Escape(chip)} alone", $"[grey]{Markup.Escape(problem ?? string.Join("; ", step?.Problems ?? []))}[/]", "-", "-", "-", "-", "-");
                continue;
            }

            weighed.AddRow($"{Markup.Escape(chip)} alone", step.StepTime.ToString(), Format.Number(step.TokensPerSecond), Format.Percent(step.ModelFlopsUtilization),
                $"{step.Memory!.Total}{(step.Fits ? string.Empty : " [red](does not fit)[/]")}", step.Energy?.FacilityPerToken.ToString() ?? "-", step.Cost?.PerMillionTokens.ToString() ?? "-");
        }

        console.Write(weighed);
        foreach (var warning in result.Warnings)
        {
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        }
    }

    /// <summary>The report as JSON (<c>simulate --json</c> on a scenario with a mixed pipeline).</summary>
    public static object Json(MixedPipelineResult result, IReadOnlyList<Alone> alone)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(alone);
        var timeline = result.Timeline;
        return new
        {
            scenario = result.Scenario,
            valid = result.Valid,
            problems = result.Problems,
            warnings = result.Warnings,
            mixedPipeline = !result.Valid ? null : new
            {
                stepTimeSeconds = result.StepTime.Seconds,
                pipelineSeconds = timeline?.Pipeline.Seconds,
                afterPipelineSeconds = timeline?.Stages.AfterPipeline.Seconds,
                powerStretch = result.PowerStretch,
                layersBalanced = result.LayersBalanced,
                tokensPerStep = result.TokensPerStep,
                tokensPerSecond = result.TokensPerSecond,
                modelFlopsUtilization = result.ModelFlopsUtilization,
                facilityEnergyPerTokenJoules = result.FacilityEnergyPerStep is { } energy ? energy.Joules / result.TokensPerStep : (double?)null,
                costPerMillionTokens = result.CostPerStep is { } cost ? cost.Dollars * 1e6 / result.TokensPerStep : (double?)null,
                rankWorkSeconds = timeline?.Stages.Ranks.Select(rank => new { forward = rank.Forward.Seconds, backward = rank.Backward.Seconds }),
                pools = result.Pools.Select(pool => new
                {
                    system = pool.System,
                    chip = pool.Chip,
                    framework = pool.Framework,
                    chips = pool.Chips,
                    firstStage = pool.FirstStage,
                    stages = pool.Stages,
                    layers = pool.Layers,
                    slowestStageSeconds = pool.SlowestStage.Seconds,
                    memoryPerChipBytes = pool.Memory.Total.Count,
                    memoryCapacityBytes = pool.MemoryCapacity.Count,
                    fits = pool.Fits,
                    workShare = pool.WorkShare,
                    afterPipelineSeconds = pool.AfterPipeline.Seconds,
                    averagePowerPerChipWatts = pool.Energy?.AveragePowerPerChip.Watts,
                    facilityEnergyPerStepJoules = pool.Energy?.FacilityPerStep.Joules,
                    costPerStep = pool.Cost?.PerStep.Dollars,
                }),
            },
            alone = alone.Select(kind => new
            {
                chip = kind.Chip,
                valid = kind.Result is { Valid: true },
                problems = kind.Problem is { } problem ? [problem] : kind.Result?.Problems.ToArray(),
                stepTimeSeconds = kind.Result is { Valid: true } step ? step.StepTime.Seconds : (double?)null,
                tokensPerSecond = kind.Result is { Valid: true } forTokens ? forTokens.TokensPerSecond : (double?)null,
                modelFlopsUtilization = kind.Result is { Valid: true } forUse ? forUse.ModelFlopsUtilization : (double?)null,
                fits = kind.Result is { Valid: true } forFit ? forFit.Fits : (bool?)null,
                facilityEnergyPerTokenJoules = kind.Result?.Energy?.FacilityPerToken.Joules,
                costPerMillionTokens = kind.Result?.Cost?.PerMillionTokens.Dollars,
            }),
        };
    }

    private static string StageRange(MixedPipelinePool pool) => pool.Stages == 1 ? $"{pool.FirstStage}" : $"{pool.FirstStage}-{pool.FirstStage + pool.Stages - 1}";

    private static string Layers(MixedPipelinePool pool) =>
        pool.Layers.Distinct().Count() == 1 ? $"{pool.Layers[0]}" : string.Join(", ", pool.Layers);
}
