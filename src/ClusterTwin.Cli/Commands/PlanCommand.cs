using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin plan SCENARIO [--objective time] [--top N] [--compare] [--offload] [--schedules] [--json]</c>.</summary>
public sealed class PlanCommand(IAnsiConsole console) : Command<PlanCommand.Settings>
{
    /// <summary>Arguments of <c>plan</c>.</summary>
    public sealed class Settings : JsonSettings
    {
        /// <summary>The scenario file.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Scenario file (YAML): cluster, model and training job; the plan block is optional and each field it names is pinned.")]
        public string Scenario { get; init; } = string.Empty;

        /// <summary>What to minimize.</summary>
        [CommandOption("--objective <OBJECTIVE>")]
        [Description("What to minimize: time (step time), energy (IT energy per step) or cost (cost per step at the scenario's prices).")]
        public string Objective { get; init; } = "time";

        /// <summary>How many layouts to print, as typed: read as a number by <see cref="Validate"/>, so a word gets a message naming the option.</summary>
        [CommandOption("--top <N>")]
        [Description("How many of the best layouts to show (default 5).")]
        public string TopText { get; init; } = "5";

        /// <summary>Percent of each chip's memory to keep free, as typed (read by <see cref="Validate"/>).</summary>
        [CommandOption("--memory-headroom <PERCENT>")]
        [Description("Percent of each chip's memory a layout must leave free, for framework buffers and fragmentation the memory model does not count (default 0).")]
        public string MemoryHeadroomText { get; init; } = "0";

        /// <summary>How many layouts to print.</summary>
        public int Top => int.Parse(TopText, NumberStyles.Integer, CultureInfo.InvariantCulture);

        /// <summary>Percent of each chip's memory to keep free.</summary>
        public double MemoryHeadroom => double.Parse(MemoryHeadroomText, NumberStyles.Float, CultureInfo.InvariantCulture);

        /// <summary>Search every field and compare with the scenario's plan instead of pinning it.</summary>
        [CommandOption("--compare")]
        [Description("Search every field, and compare the best layout with the plan the scenario gives instead of pinning its fields.")]
        public bool Compare { get; init; }

        /// <summary>Let the search offload activations to the host where a layout is over memory.</summary>
        [CommandOption("--offload")]
        [Description("Let the search offload the fewest layers' activations to the host that make a layout over memory fit, where the framework and the system can (validated on NVLink-C2C hosts only).")]
        public bool Offload { get; init; }

        /// <summary>Let the search try every pipeline schedule on every layout with a pipeline.</summary>
        [CommandOption("--schedules")]
        [Description("Also search the pipeline schedule: 1F1B, zero bubble and DualPipe, on every layout with a pipeline where each runs (docs/pipeline-schedules.md: few frameworks run the last two).")]
        public bool Schedules { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (base.Validate() is { Successful: false } missing)
            {
                return missing;
            }

            if (Objective is not ("time" or "energy" or "cost"))
            {
                return ValidationResult.Error($"--objective '{Objective}' is not an objective (expected time, energy or cost)");
            }

            if (!double.TryParse(MemoryHeadroomText, NumberStyles.Float, CultureInfo.InvariantCulture, out var headroom) || headroom is < 0 or >= 100 || double.IsNaN(headroom))
            {
                return ValidationResult.Error($"--memory-headroom '{MemoryHeadroomText}' is not a percentage from 0 up to, not including, 100 (such as 10)");
            }

            return !int.TryParse(TopText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var top) || top is < 1 or > 1000
                ? ValidationResult.Error($"--top '{TopText}' is not a whole number from 1 to 1000 (such as 10)")
                : ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var planning = ScenarioLoader.LoadForPlanning(settings.Scenario, catalog);
        var given = settings.Compare ? GivenPlan(settings.Scenario, planning) : null;
        if (settings.Offload && !settings.Compare && planning.Pins.OffloadedLayers is { } pinned)
        {
            throw new InputException(settings.Scenario, $"--offload lets the search choose the offloaded layers, but the plan block pins offload_activations: {pinned}: remove one of them");
        }

        if (settings.Schedules && !settings.Compare && planning.Pins.NamesSchedule)
        {
            throw new InputException(settings.Scenario, $"--schedules lets the search choose the pipeline schedule, but the plan block names schedule: {PipelineScheduleKeys.Key(planning.Given!.Schedule)}: remove one of them");
        }

        var pins = (settings.Compare ? PlanPins.SettingsOf(planning.Given!) : planning.Pins) with { SearchesOffloading = settings.Offload, SearchesSchedules = settings.Schedules };
        var objective = Enum.Parse<PlanObjective>(settings.Objective, ignoreCase: true);
        if (objective.Missing(planning.Scenario) is { } missing)
        {
            throw new InputException(settings.Scenario, $"--objective {settings.Objective}: {missing}");
        }

        var clock = Stopwatch.StartNew();
        PlanSearchResult Search(IProgress<double>? progress) => PlanSearch.Run(planning.Scenario, pins, settings.Top, progress, settings.MemoryHeadroom / 100, objective: objective);
        var search = settings.Json || !console.Profile.Capabilities.Interactive ? Search(null) : WithProgress(Search);
        var elapsed = clock.Elapsed;
        if (search.Refusal is { } refusal)
        {
            throw new InputException(settings.Scenario, refusal);
        }

        if (settings.Json)
        {
            console.Profile.Out.Writer.WriteLine(PlanJson.Serialize(planning.Scenario, search, elapsed, given));
        }
        else
        {
            PlanReport.Write(console, planning.Scenario, search, elapsed, given);
        }

        return search.Plans.IsEmpty ? 1 : 0;
    }

    /// <summary>The scenario's own plan, simulated, for <c>--compare</c>; it must be a valid layout to compare with.</summary>
    private static TrainingStepResult GivenPlan(string path, PlanningScenario planning)
    {
        if (planning.Given is not { } plan)
        {
            throw new InputException(path, "--compare needs a plan block to compare with");
        }

        var result = AnalyticalEngine.Simulate(planning.Scenario with { Plan = plan });
        return result.Valid
            ? result
            : throw new InputException(path, $"--compare needs the plan block to be a valid layout: {string.Join("; ", result.Problems)}");
    }

    /// <summary>Runs <paramref name="search"/> behind a progress bar.</summary>
    private PlanSearchResult WithProgress(Func<IProgress<double>, PlanSearchResult> search)
    {
        PlanSearchResult? result = null;
        console.Progress().AutoClear(true).Start(context => result = search(new MonotonicProgress(context.AddTask("searching layouts", maxValue: 1))));
        return result!;
    }

    /// <summary>Moves a progress bar forward as reports arrive, on the reporting thread; a late, smaller report is ignored.</summary>
    private sealed class MonotonicProgress(ProgressTask task) : IProgress<double>
    {
        private readonly Lock gate = new();

        public void Report(double value)
        {
            lock (gate)
            {
                task.Value = Math.Max(task.Value, value);
            }
        }
    }
}
