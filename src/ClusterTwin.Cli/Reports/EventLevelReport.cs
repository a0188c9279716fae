using System.Globalization;
using ClusterTwin.Engines;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>
/// The event-level engine's part of <c>simulate</c>: the pipeline replayed pass by pass against the closed form, and the
/// straggler draws.
/// </summary>
public static class EventLevelReport
{
    /// <summary>Whether the replay has something to say: a pipeline of two ranks or more, or stragglers drawn.</summary>
    public static bool Shows(EventLevelStep step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.Stragglers is not null || step.Timeline is { Stages.Pipeline: > 1 } || step.NotReplayed is not null;
    }

    /// <summary>Writes the section for <paramref name="step"/> beside the closed form's <paramref name="result"/>.</summary>
    public static void Write(IAnsiConsole console, TrainingStepResult result, EventLevelStep step)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(step);
        var table = new Table().Border(TableBorder.Rounded).Title("The step replayed pass by pass (event-level engine)");
        table.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        if (step.Timeline is not { } timeline)
        {
            table.AddRow("not replayed", Markup.Escape(step.NotReplayed ?? "-"));
            console.Write(table);
            return;
        }

        var stages = timeline.Stages;
        table.AddRow("step, each rank at its own pace", $"{timeline.StepTime} ({Signed(timeline.StepTime / result.StepTime - 1)} against the closed form's {result.StepTime})");
        table.AddRow("pipeline: fill, steady state and drain", timeline.Pipeline.ToString());
        var (lightest, slowest) = (Enumerable.Range(0, stages.Pipeline).Min(rank => stages.RankWork(rank).Seconds), stages.SlowestRank);
        table.AddRow("ranks' work per micro-batch", stages.Pipeline == 1 ? slowest.ToString() : $"{Duration.FromSeconds(lightest)} - {slowest} over {stages.Pipeline} ranks (the closed form charges each the slowest's)");
        table.AddRow("idle in the pipeline: busiest rank / average rank", $"{Format.Percent(timeline.SlowestRankIdleShare)} / {Format.Percent(timeline.MeanIdleShare)}");
        var passes = stages.Schedule switch
        {
            PipelineScheduleKind.ZeroBubble => $"{stages.MicroBatches:N0} micro-batches x {stages.Pipeline} ranks, forward, input gradient and weight gradients, zero-bubble schedule",
            PipelineScheduleKind.DualPipe => $"{stages.MicroBatches:N0} micro-batches, half from each end, x {stages.Pipeline} ranks, forward and backward, some split into input and weight gradients, DualPipe schedule",
            _ => $"{stages.MicroBatches:N0} micro-batches x {stages.VirtualStages} chunks x {stages.Pipeline} ranks, forward and backward",
        };
        table.AddRow("passes replayed", $"{Format.Count(timeline.Spans.Length)} ({passes})");
        if (stages.Pipeline > 1)
        {
            table.AddRow("critical path: the passes that set the pipeline", CriticalPathText(timeline));
        }

        if (step.Stragglers is { } draws)
        {
            WriteStragglers(table, draws, result);
        }

        console.Write(table);
    }

    private static void WriteStragglers(Table table, StragglerDraws draws, TrainingStepResult result)
    {
        var settings = draws.Settings;
        table.AddRow("stragglers: mean step (P50 - P99)", $"{draws.Mean} ± {draws.StandardError} ({draws.Percentile(0.5)} - {draws.Percentile(0.99)})");
        table.AddRow("stragglers: slowdown of the mean step", $"{Signed(draws.Slowdown)}; {Format.Number(result.TokensPerSecond / (1 + draws.Slowdown))} tokens per second");
        if (result.TimeToTrain is { } time)
        {
            var slowed = time * (1 + draws.Slowdown);
            table.AddRow("stragglers: time to train, fault-free", slowed.Seconds >= 86400 ? $"{slowed.Seconds / 86400:0.0} days" : slowed.ToString());
        }
        if (settings.ChipSpread > 0)
        {
            var cut = settings.ReplacedBeyond is { } beyond ? $", the {Format.Percent(draws.ReplacedShare)} of chips beyond +{Format.Percent(beyond)} replaced" : string.Empty;
            table.AddRow("slowest chip's pace, mean of the draws", $"{Signed(draws.MeanSlowestChip)} against the median chip (spread {Format.Percent(settings.ChipSpread)}{cut}; {Format.Count(draws.ChipsPerRank)} chips share each rank's work)");
        }

        if (settings.TransientShare > 0)
        {
            table.AddRow("steps a transient slowdown strikes", $"{Format.Percent(draws.StepsStruck)} (chance {settings.TransientShare.ToString("G3", CultureInfo.InvariantCulture)} per chip and step, x{settings.TransientSlowdown.ToString("0.###", CultureInfo.InvariantCulture)})");
        }

        var cutShort = draws.Steps.Length < settings.Draws ? $", cut from {settings.Draws:N0} to fit {StragglerDraws.PassBudget:N0} passes" : string.Empty;
        table.AddRow("stragglers: steps drawn", $"{draws.Steps.Length:N0} (seed {settings.Seed}{cutShort})");
    }

    /// <summary>"270 passes, 89.9% of the time on rank 15; forward 34.5%, backward 64.8%, sends 0.7%".</summary>
    private static string CriticalPathText(StepTimeline timeline)
    {
        var path = timeline.Critical;
        var pipeline = timeline.Pipeline;
        var heaviest = path.RankTime.IndexOf(path.RankTime.Max());
        var weight = path.WeightGradient > Duration.Zero ? $", weight gradients {Format.Percent(path.WeightGradient / pipeline)}" : string.Empty;
        return $"{Format.Count(path.Spans.Length)} passes, {Format.Percent(path.RankTime[heaviest] / pipeline)} of the time on rank {heaviest}; " +
               $"forward {Format.Percent(path.Forward / pipeline)}, backward {Format.Percent(path.Backward / pipeline)}{weight}, sends {Format.Percent(path.Sends / pipeline)}";
    }

    /// <summary>The section as JSON (<c>simulate --json</c>'s <c>eventLevel</c>).</summary>
    public static object Json(TrainingStepResult result, EventLevelStep step)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(step);
        var timeline = step.Timeline;
        var draws = step.Stragglers;
        return new
        {
            notReplayed = step.NotReplayed,
            stepTimeSeconds = timeline?.StepTime.Seconds,
            closedFormStepTimeSeconds = result.StepTime.Seconds,
            pipelineSeconds = timeline?.Pipeline.Seconds,
            afterPipelineSeconds = timeline?.Stages.AfterPipeline.Seconds,
            rankWorkSeconds = timeline?.Stages.Ranks.Select(rank => new { forward = rank.Forward.Seconds, backward = rank.Backward.Seconds, weightGradient = rank.WeightGradient.Seconds }),
            busiestRankIdleShare = timeline?.SlowestRankIdleShare,
            meanIdleShare = timeline?.MeanIdleShare,
            passes = timeline?.Spans.Length,
            criticalPath = timeline is null ? null : CriticalPathJson(timeline.Critical),
            stragglers = draws is null ? null : StragglersJson(draws),
            timeToTrainWithStragglersSeconds = draws is not null && result.TimeToTrain is { } time ? time.Seconds * (1 + draws.Slowdown) : (double?)null,
        };
    }

    /// <summary>The critical path as JSON (<c>eventLevel.criticalPath</c>).</summary>
    private static object CriticalPathJson(CriticalPath path) => new
    {
        passes = path.Spans.Length,
        forwardSeconds = path.Forward.Seconds,
        backwardSeconds = path.Backward.Seconds,
        weightGradientSeconds = path.WeightGradient.Seconds,
        sendSeconds = path.Sends.Seconds,
        rankSeconds = path.RankTime.Select(time => time.Seconds),
    };

    /// <summary>The straggler draws as JSON (<c>eventLevel.stragglers</c> of <c>simulate</c>, <c>scenarios[].stragglers</c> of <c>compare</c>).</summary>
    public static object StragglersJson(StragglerDraws draws)
    {
        ArgumentNullException.ThrowIfNull(draws);
        return new
        {
            chipSpread = draws.Settings.ChipSpread,
            replacedBeyond = draws.Settings.ReplacedBeyond,
            transientShare = draws.Settings.TransientShare,
            transientSlowdown = draws.Settings.TransientSlowdown,
            seed = draws.Settings.Seed,
            requested = draws.Settings.Draws,
            drawn = draws.Steps.Length,
            chipsPerRank = draws.ChipsPerRank,
            evenStepSeconds = draws.EvenStep.Seconds,
            meanSeconds = draws.Mean.Seconds,
            standardErrorSeconds = draws.StandardError.Seconds,
            p50Seconds = draws.Percentile(0.5).Seconds,
            p90Seconds = draws.Percentile(0.9).Seconds,
            p99Seconds = draws.Percentile(0.99).Seconds,
            slowdown = draws.Slowdown,
            meanSlowestChip = draws.MeanSlowestChip,
            replacedShare = draws.ReplacedShare,
            stepsStruck = draws.StepsStruck,
        };
    }

    /// <summary>A share with its sign: "+9.3%", "-0.8%".</summary>
    internal static string Signed(double fraction) => Math.Abs(fraction) < 0.0005 ? Format.Percent(0) : (fraction > 0 ? "+" : string.Empty) + Format.Percent(fraction);
}
