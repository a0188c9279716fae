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
    /// <summary>
    /// Where the pipeline could split instead, as many chips in all: <see cref="FirstStages"/> stages on the first kind
    /// of chip, the rest on the other; at either end one kind alone (the analytical engine's step), in between a mixed
    /// pipeline with its layers balanced.
    /// </summary>
    /// <param name="FirstStages">Stages on the first kind (0 to the pipeline's depth).</param>
    /// <param name="Label">The kind or kinds, for the report.</param>
    /// <param name="Mixed">The mixed pipeline's step, in between.</param>
    /// <param name="Alone">One kind's step, at either end.</param>
    /// <param name="Problem">Why there is no step (the chips are not a cluster), or null.</param>
    public sealed record Split(int FirstStages, string Label, MixedPipelineResult? Mixed, TrainingStepResult? Alone, string? Problem)
    {
        /// <summary>Whether the split has a step.</summary>
        public bool Valid => Mixed?.Valid ?? Alone?.Valid ?? false;

        /// <summary>Why it has none: its problem, or its engine's.</summary>
        public IEnumerable<string> Problems => Problem is { } problem ? [problem] : Mixed?.Problems ?? Alone?.Problems ?? [];

        /// <summary>The step, stretched by the power limit.</summary>
        public Duration StepTime => Mixed?.StepTime ?? Alone?.StepTime ?? Duration.Zero;

        /// <summary>Tokens per second.</summary>
        public double TokensPerSecond => Mixed?.TokensPerSecond ?? Alone?.TokensPerSecond ?? 0;

        /// <summary>MFU (against both kinds' peaks where it mixes them).</summary>
        public double ModelFlopsUtilization => Mixed?.ModelFlopsUtilization ?? Alone?.ModelFlopsUtilization ?? 0;

        /// <summary>Whether every chip's memory fits.</summary>
        public bool Fits => Mixed?.Pools.All(pool => pool.Fits) ?? Alone?.Fits ?? false;

        /// <summary>Facility energy per token, where the power figures are known.</summary>
        public Energy? FacilityEnergyPerToken => Mixed is { } mixed ? mixed.FacilityEnergyPerToken : Alone?.Energy?.FacilityPerToken;

        /// <summary>Cost per million tokens, where the prices are known.</summary>
        public Money? CostPerMillionTokens => Mixed is { } mixed ? mixed.CostPerMillionTokens : Alone?.Cost?.PerMillionTokens;
    }

    /// <summary>Writes the report.</summary>
    public static void Write(IAnsiConsole console, MixedPipelineResult result, IReadOnlyList<Split> splits)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(splits);
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
        if (result.Stragglers is { } draws)
        {
            summary.AddRow("stragglers: mean step (P50 - P99)", $"{draws.Mean} ± {draws.StandardError} ({draws.Percentile(0.5)} - {draws.Percentile(0.99)})");
            summary.AddRow("stragglers: slowdown of the mean step", $"{EventLevelReport.Signed(draws.Slowdown)}; {Format.Number(result.TokensPerSecond / (1 + draws.Slowdown))} tokens per second ({draws.Steps.Length:N0} steps drawn, seed {draws.Settings.Seed})");
        }

        summary.AddRow("MFU (against both kinds' peaks)", Format.Percent(result.ModelFlopsUtilization));
        summary.AddRow("facility energy per token", result.FacilityEnergyPerToken?.ToString() ?? "-");
        summary.AddRow("cost per million tokens", result.CostPerMillionTokens?.ToString() ?? "-");
        console.Write(summary);

        var weighed = new Table().Border(TableBorder.Rounded).Title("Where the pipeline could split: as many chips, the layers balanced (the scenario's own as it gives them; at either end, one kind alone)");
        weighed.AddColumn("Stages on each kind").AddColumn(new TableColumn("Step time").RightAligned()).AddColumn(new TableColumn("Tokens per second").RightAligned())
            .AddColumn(new TableColumn("MFU").RightAligned()).AddColumn(new TableColumn("Memory").RightAligned())
            .AddColumn(new TableColumn("Energy per token").RightAligned()).AddColumn(new TableColumn("Cost per million tokens").RightAligned());
        var own = result.Pools[0].Stages;
        var notClusters = splits.Where(split => split.Problem is not null).Select(split => split.Label).ToArray();
        if (notClusters.Length > 0)
        {
            weighed.Caption($"Left out, their chips not whole systems of a kind: {string.Join(", ", notClusters)}");
        }

        foreach (var split in splits.Where(split => split.Problem is null))
        {
            var label = Markup.Escape(split.Label) + (split.FirstStages == own ? " [bold](this split)[/]" : string.Empty);
            if (!split.Valid)
            {
                weighed.AddRow(label, $"[grey]{Markup.Escape(string.Join("; ", split.Problems))}[/]", "-", "-", "-", "-", "-");
                continue;
            }

            weighed.AddRow(label, split.StepTime.ToString(), Format.Number(split.TokensPerSecond), Format.Percent(split.ModelFlopsUtilization),
                split.Fits ? "fits" : "[red]does not fit[/]", split.FacilityEnergyPerToken?.ToString() ?? "-", split.CostPerMillionTokens?.ToString() ?? "-");
        }

        console.Write(weighed);
        foreach (var warning in result.Warnings)
        {
            console.MarkupLine($"[yellow]warning:[/] {Markup.Escape(warning)}");
        }
    }

    /// <summary>The report as JSON (<c>simulate --json</c> on a scenario with a mixed pipeline).</summary>
    public static object Json(MixedPipelineResult result, IReadOnlyList<Split> splits)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(splits);
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
                facilityEnergyPerTokenJoules = result.FacilityEnergyPerToken?.Joules,
                costPerMillionTokens = result.CostPerMillionTokens?.Dollars,
                stragglers = result.Stragglers is { } draws ? EventLevelReport.StragglersJson(draws) : null,
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
            splits = splits.Select(split => new
            {
                firstStages = split.FirstStages,
                label = split.Label,
                valid = split.Valid,
                problems = split.Valid ? null : split.Problems.ToArray(),
                stepTimeSeconds = split.Valid ? split.StepTime.Seconds : (double?)null,
                tokensPerSecond = split.Valid ? split.TokensPerSecond : (double?)null,
                modelFlopsUtilization = split.Valid ? split.ModelFlopsUtilization : (double?)null,
                fits = split.Valid ? split.Fits : (bool?)null,
                facilityEnergyPerTokenJoules = split.Valid ? split.FacilityEnergyPerToken?.Joules : null,
                costPerMillionTokens = split.Valid ? split.CostPerMillionTokens?.Dollars : null,
            }),
        };
    }

    private static string StageRange(MixedPipelinePool pool) => pool.Stages == 1 ? $"{pool.FirstStage}" : $"{pool.FirstStage}-{pool.FirstStage + pool.Stages - 1}";

    private static string Layers(MixedPipelinePool pool) =>
        pool.Layers.Distinct().Count() == 1 ? $"{pool.Layers[0]}" : string.Join(", ", pool.Layers);
}
