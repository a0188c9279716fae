using System.Globalization;
using System.Text;
using ClusterTwin.Validation;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The outputs of <c>validate</c>: tables, JSON, and the markdown page <c>docs/validation.md</c>.</summary>
public static class ValidationReport
{
    private static readonly string[] CaseHeaders = ["case", "source", "metric", "measured", "predicted", "band (P10-P90)", "error", "held-out error", "in band"];

    private static readonly string[] ServingHeaders = ["case", "source", "figure", "measured", "predicted", "band (P10-P90)", "error", "held-out error", "in band"];

    /// <summary>Writes the per-case table and the summaries.</summary>
    public static void Write(IAnsiConsole console, ValidationSummary summary)
    {
        if (summary.Outcomes.Length > 0)
        {
            var table = new Table().Border(TableBorder.Rounded).Title("Predicted vs measured");
            table.AddColumns(CaseHeaders);
            foreach (var outcome in summary.Outcomes)
            {
                table.AddRow(CaseCells(outcome, console: true));
            }

            console.Write(table);
            console.Write(GroupTable("By chip family", "family", summary.ByFamily));
            console.Write(GroupTable("By source", "source", summary.BySource));
            console.Write(GroupTable("By workload", "workload", summary.ByWorkload));
            if (WorkloadsOverlap(summary))
            {
                console.MarkupLine(Markup.Escape(WorkloadsOverlapNote));
            }

            var overall = summary.Overall;
            console.MarkupLine(Markup.Escape(
                $"{overall.Count} cases: mean absolute error {Percent(overall.MeanAbsoluteErrorPercent, "0.00")}, worst {Percent(overall.MaximumAbsoluteErrorPercent, "0.00")}, band coverage {Coverage(overall)}; held out ({overall.HeldOutCount} cases): mean {Percent(overall.HeldOutMeanAbsoluteErrorPercent, "0.00")}, worst {Percent(overall.HeldOutMaximumAbsoluteErrorPercent, "0.00")}"));
        }

        if (summary.Serving is { Outcomes.Length: > 0 } serving)
        {
            var cases = new Table().Border(TableBorder.Rounded).Title("Serving: predicted vs measured");
            cases.AddColumns(ServingHeaders);
            foreach (var outcome in serving.Outcomes)
            {
                cases.AddRow(ServingCells(outcome, console: true));
            }

            console.Write(cases);
            console.Write(GroupTable("Serving by figure", "figure", serving.ByKind, "figures"));
            console.Write(GroupTable("Serving by source", "source", serving.BySource, "figures"));
            console.MarkupLine(Markup.Escape(ServingLine(serving)));
        }
    }

    private static string ServingLine(ServingValidationSummary serving) =>
        $"{serving.Overall.Count} serving figures of {serving.Outcomes.Select(outcome => outcome.Case.Id).Distinct().Count()} cases: mean absolute error {Percent(serving.Overall.MeanAbsoluteErrorPercent)}, worst {Percent(serving.Overall.MaximumAbsoluteErrorPercent)}, band coverage {Coverage(serving.Overall)}" +
        string.Concat(serving.ByKind.Select(group => $"; {group.Name} ({group.Count}): mean {Percent(group.MeanAbsoluteErrorPercent)}, worst {Percent(group.MaximumAbsoluteErrorPercent)}")) +
        (serving.Overall.HeldOutCount == 0 ? string.Empty
            : $"; held out ({serving.Overall.HeldOutCount} figures predicted by their framework's constants fitted without their case): mean {Percent(serving.Overall.HeldOutMeanAbsoluteErrorPercent)}, worst {Percent(serving.Overall.HeldOutMaximumAbsoluteErrorPercent)}");

    /// <summary>One case's comparison as JSON: an element of <c>validate --json</c>'s <c>cases[]</c>, and <c>simulate --json</c>'s <c>validation</c> for a case file.</summary>
    public static object CaseJson(ValidationOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        return new
        {
            id = outcome.Case.Id,
            source = outcome.Case.Source,
            sourceKey = outcome.Case.SourceKey,
            family = outcome.Family,
            metric = outcome.Case.MetricName,
            predicted = outcome.Predicted,
            predictedLow = outcome.PredictedLow,
            predictedHigh = outcome.PredictedHigh,
            measured = outcome.Measured,
            errorPercent = outcome.ErrorPercent,
            heldOutPredicted = outcome.HeldOutPredicted,
            heldOutErrorPercent = outcome.HeldOutErrorPercent,
            withinBand = outcome.WithinBand,
            fits = outcome.Fits,
        };
    }

    /// <summary>
    /// The comparison <c>simulate</c> adds for a validation case file: the measurement, the prediction in the source's
    /// metric with its band, the error and whether the band holds the measurement.
    /// </summary>
    public static void WriteOutcome(IAnsiConsole console, ValidationOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(outcome);
        var rows = new[]
        {
            new[] { "source", outcome.Case.Source },
            ["metric", MetricLabel(outcome.Case.Metric)],
            ["measured", Value(outcome.Measured)],
            ["predicted (P10-P90)", $"{Value(outcome.Predicted)} ({Value(outcome.PredictedLow)} - {Value(outcome.PredictedHigh)})"],
            ["error", Signed(outcome.ErrorPercent)],
            ["in band", outcome.WithinBand ? "yes" : "no"],
        };
        console.Write(Tables.Console($"Published run {outcome.Case.Id}", ["measure", "value"], rows));
    }

    /// <summary>The JSON document: <c>cases[]</c> and <c>summary</c> with its groups.</summary>
    public static object Document(ValidationSummary summary) => new
    {
        cases = summary.Outcomes.Select(CaseJson),
        summary = new
        {
            count = summary.Overall.Count,
            meanAbsErrorPercent = summary.Overall.MeanAbsoluteErrorPercent,
            maxAbsErrorPercent = summary.Overall.MaximumAbsoluteErrorPercent,
            bandCoverage = summary.Overall.BandCoverage,
            heldOutCount = summary.Overall.HeldOutCount,
            heldOutMeanAbsErrorPercent = summary.Overall.HeldOutMeanAbsoluteErrorPercent,
            heldOutMaxAbsErrorPercent = summary.Overall.HeldOutMaximumAbsoluteErrorPercent,
            byFamily = summary.ByFamily.Select(Group),
            bySource = summary.BySource.Select(Group),
            byWorkload = summary.ByWorkload.Select(Group),
        },
        serving = summary.Serving is not { } serving ? null : new
        {
            cases = serving.Outcomes.Select(outcome => new
            {
                id = outcome.Case.Id,
                source = outcome.Case.Source,
                sourceKey = outcome.Case.SourceKey,
                family = outcome.Family,
                metric = outcome.Measure.Key(),
                unit = outcome.Measure.IsThroughput() ? "per second" : "seconds",
                predicted = outcome.Predicted,
                predictedLow = outcome.PredictedLow,
                predictedHigh = outcome.PredictedHigh,
                measured = outcome.Measured,
                errorPercent = outcome.ErrorPercent,
                withinBand = outcome.WithinBand,
                heldOutPredicted = outcome.HeldOutPredicted,
                heldOutErrorPercent = outcome.HeldOutErrorPercent,
            }),
            summary = new
            {
                count = serving.Overall.Count,
                meanAbsErrorPercent = serving.Overall.MeanAbsoluteErrorPercent,
                maxAbsErrorPercent = serving.Overall.MaximumAbsoluteErrorPercent,
                bandCoverage = serving.Overall.BandCoverage,
                heldOutCount = serving.Overall.HeldOutCount,
                heldOutMeanAbsErrorPercent = serving.Overall.HeldOutMeanAbsoluteErrorPercent,
                heldOutMaxAbsErrorPercent = serving.Overall.HeldOutMaximumAbsoluteErrorPercent,
                byKind = serving.ByKind.Select(Group),
                byFamily = serving.ByFamily.Select(Group),
                bySource = serving.BySource.Select(Group),
            },
        },
    };

    /// <summary>
    /// The markdown page, regenerated by <c>clustertwin validate --markdown docs/validation.md</c>, or for other case
    /// folders by <paramref name="command"/> (the command line that wrote it), whose cases are in <paramref name="folder"/>.
    /// </summary>
    public static string Markdown(ValidationSummary summary, string command = "./clustertwin validate --markdown docs/validation.md", string folder = "validation/cases/")
    {
        var page = new StringBuilder();
        page.AppendLine("# Validation against published runs");
        page.AppendLine();
        page.AppendLine(CultureInfo.InvariantCulture, $"Generated by `{command}`; do not edit by hand. Each case is a published,");
        page.AppendLine(CultureInfo.InvariantCulture, $"measured run (`{folder}`), compared under the source's own metric. The band is the P10-P90 range the");
        page.AppendLine("prediction gives for the measurement ([calibration.md](calibration.md)).");
        if (summary.Outcomes.Length > 0)
        {
            AppendTraining(page, summary);
        }

        if (summary.Serving is { Outcomes.Length: > 0 } serving)
        {
            AppendServing(page, serving);
        }

        return page.ToString();
    }

    private static void AppendTraining(StringBuilder page, ValidationSummary summary)
    {
        var overall = summary.Overall;
        page.AppendLine();
        page.AppendLine(CultureInfo.InvariantCulture, $"**{overall.Count} cases: mean absolute error {Percent(overall.MeanAbsoluteErrorPercent)}, worst {Percent(overall.MaximumAbsoluteErrorPercent)}, band coverage {Coverage(overall)}.**");
        page.AppendLine(CultureInfo.InvariantCulture, $"**Held out ({overall.HeldOutCount} cases predicted by a calibration that never saw them): mean absolute error {Percent(overall.HeldOutMeanAbsoluteErrorPercent)}, worst {Percent(overall.HeldOutMaximumAbsoluteErrorPercent)}.**");
        var fitted = ValidationGroup.Of("fitted", [.. summary.Outcomes.Where(outcome => outcome.Case.Fitted)]);
        if (fitted.Count > 0 && fitted.Count < overall.Count)
        {
            page.AppendLine(CultureInfo.InvariantCulture, $"**The {fitted.Count} cases the family levels may fit (the others are marked not fitted): mean absolute error {Percent(fitted.MeanAbsoluteErrorPercent)}, worst {Percent(fitted.MaximumAbsoluteErrorPercent)}; held out: mean {Percent(fitted.HeldOutMeanAbsoluteErrorPercent)}, worst {Percent(fitted.HeldOutMaximumAbsoluteErrorPercent)}.**");
        }

        page.AppendLine();
        page.AppendLine("The held-out prediction refits the chip family's levels without the case's source (families with two sources or");
        page.AppendLine("more) or without the case itself (families with one source); a family with one case has none. A case marked");
        page.AppendLine("*over memory* is one the model predicts does not fit: runs at the edge of memory often slow down. A case marked");
        page.AppendLine("*not fitted* is validated but kept out of the family's levels, with the reason in its file. For the NVFP4 runs");
        page.AppendLine("(until the model follows their recipe) the held-out error is the error. The mixture-of-experts runs fit their");
        page.AppendLine("training framework's expert launch times instead, and each one's held-out prediction refits those times without");
        page.AppendLine("it; likewise a framework's slowdown without recompute and the runs without recompute it is fitted on. A case marked");
        page.AppendLine("*check* is kept out of its framework's fits too, so both its errors are those of constants that never saw it");
        page.AppendLine("([calibration.md](calibration.md)).");
        page.AppendLine();
        AppendGroups(page, "By chip family", "family", summary.ByFamily);
        AppendGroups(page, "By source", "source", summary.BySource);
        AppendGroups(page, "By workload", "workload", summary.ByWorkload);
        if (WorkloadsOverlap(summary))
        {
            page.AppendLine(WorkloadsOverlapNote);
            page.AppendLine();
        }
        page.AppendLine("## Every case");
        page.AppendLine();
        Tables.AppendMarkdown(page, [.. CaseHeaders.Select(header => header == "band (P10-P90)" ? "band" : header)], summary.Outcomes.Select(outcome => CaseCells(outcome, console: false)));
    }

    private static void AppendServing(StringBuilder page, ServingValidationSummary serving)
    {
        page.AppendLine();
        page.AppendLine("# Serving");
        page.AppendLine();
        page.AppendLine("Each serving case is a published inference benchmark (a `serving` scenario), simulated request by");
        page.AppendLine("request by `clustertwin serve` ([serving.md](serving.md)) and compared on every figure the source measured: throughput");
        page.AppendLine("(output tokens or requests per second) and latency (time to first token, time per output token, inter-token and");
        page.AppendLine("end-to-end latency, in milliseconds). The band reruns the case with every iteration at the ends of its framework's");
        page.AppendLine("fitted residuals (P10-P90). Each framework's constants (overheads per layer of an iteration and per request in its front end,");
        page.AppendLine("with the front end's P99 where the cases measured a P99 first token,");
        if (serving.Outcomes.Any(outcome => outcome.Case.FrameworkFitted))
        {
            page.AppendLine("and a factor on its multiplies' rate) are data in `catalog/frameworks/`, fitted to these cases with held-out errors");
            page.AppendLine("([serving.md](serving.md#calibration)); the held-out error predicts each case with its frameworks' constants fitted");
            page.AppendLine("without it, which the fit keeps in the same files (`held_out_constants`).");
        }
        else
        {
            page.AppendLine("and a factor on its multiplies' rate) are data in `catalog/frameworks/`, fitted (where a framework has a fit) to the");
            page.AppendLine("published cases ([serving.md](serving.md#calibration)) and to none of these: every figure here is predicted by");
            page.AppendLine("constants that never saw it, so its held-out error is its error.");
        }

        page.AppendLine();
        page.AppendLine(CultureInfo.InvariantCulture, $"**{ServingLine(serving)}.**");
        page.AppendLine();
        page.AppendLine("## Serving by figure");
        page.AppendLine();
        Tables.AppendMarkdown(page, GroupHeaders("figure", "figures"), serving.ByKind.Select(group => GroupCells(group)));
        page.AppendLine();
        page.AppendLine("## Serving by source");
        page.AppendLine();
        Tables.AppendMarkdown(page, GroupHeaders("source", "figures"), serving.BySource.Select(group => GroupCells(group)));
        page.AppendLine();
        page.AppendLine("## Every serving figure");
        page.AppendLine();
        Tables.AppendMarkdown(page, [.. ServingHeaders.Select(header => header == "band (P10-P90)" ? "band" : header)], serving.Outcomes.Select(outcome => ServingCells(outcome, console: false)));
    }

    /// <summary>One serving figure's row.</summary>
    private static string[] ServingCells(ServingOutcome outcome, bool console)
    {
        string Text(string text) => console ? Markup.Escape(text) : text;
        string Figure(double value) => outcome.Measure.IsThroughput() ? Value(value) : (value * 1000).ToString(value * 1000 >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture) + " ms";
        return
        [
            Text(outcome.Case.Id), Text(outcome.Case.SourceKey), outcome.Measure.Key(), Figure(outcome.Measured), Figure(outcome.Predicted),
            $"{Figure(outcome.PredictedLow)} - {Figure(outcome.PredictedHigh)}", Signed(outcome.ErrorPercent),
            outcome.HeldOutErrorPercent is { } heldOut ? Signed(heldOut) : "-",
            outcome.WithinBand ? "yes" : console ? "[red]no[/]" : "no",
        ];
    }

    private static object Group(ValidationGroup group) => new
    {
        name = group.Name,
        count = group.Count,
        meanAbsErrorPercent = group.MeanAbsoluteErrorPercent,
        maxAbsErrorPercent = group.MaximumAbsoluteErrorPercent,
        bandCoverage = group.BandCoverage,
        heldOutCount = group.HeldOutCount,
        heldOutMeanAbsErrorPercent = group.HeldOutMeanAbsoluteErrorPercent,
        heldOutMaxAbsErrorPercent = group.HeldOutMaximumAbsoluteErrorPercent,
    };

    private static void AppendGroups(StringBuilder page, string title, string column, IEnumerable<ValidationGroup> groups)
    {
        page.AppendLine(CultureInfo.InvariantCulture, $"## {title}");
        page.AppendLine();
        Tables.AppendMarkdown(page, GroupHeaders(column), groups.Select(group => GroupCells(group)));
        page.AppendLine();
    }

    private static Table GroupTable(string title, string column, IEnumerable<ValidationGroup> groups, string counted = "cases") =>
        Tables.Console(title, GroupHeaders(column, counted), groups.Select(group => GroupCells(group)));

    private static string[] GroupHeaders(string column, string counted = "cases") =>
        [column, counted, "mean absolute error", "worst", "band coverage", $"held out: {counted}", "mean", "worst"];

    private static string[] GroupCells(ValidationGroup group) =>
    [
        group.Name, group.Count.ToString(CultureInfo.InvariantCulture), Percent(group.MeanAbsoluteErrorPercent), Percent(group.MaximumAbsoluteErrorPercent),
        Coverage(group), group.HeldOutCount.ToString(CultureInfo.InvariantCulture), Percent(group.HeldOutMeanAbsoluteErrorPercent), Percent(group.HeldOutMaximumAbsoluteErrorPercent),
    ];

    /// <summary>One case's row: plain text for markdown, or escaped with colour markup for the console.</summary>
    private static string[] CaseCells(ValidationOutcome outcome, bool console)
    {
        string Text(string text) => console ? Markup.Escape(text) : text;
        string Marked(string text, string colour) => console ? $"[{colour}]{Markup.Escape(text)}[/]" : text;
        return
        [
            Text(outcome.Case.Id) + (outcome.Fits ? string.Empty : " " + Marked("(over memory)", "yellow")) + (outcome.Case.Fitted ? string.Empty : " " + Marked("(not fitted)", "grey")) +
                (outcome.Case.FrameworkFitted ? string.Empty : " " + Marked("(check)", "grey")),
            Text(outcome.Case.SourceKey), outcome.Case.MetricName, Value(outcome.Measured), Value(outcome.Predicted),
            $"{Value(outcome.PredictedLow)} - {Value(outcome.PredictedHigh)}", Signed(outcome.ErrorPercent), HeldOut(outcome),
            outcome.WithinBand ? "yes" : Marked("no", "red"),
        ];
    }

    private const string WorkloadsOverlapNote = "A case can be in several workloads (a mixture of experts in MXFP8 split over a long context).";

    /// <summary>Whether a case of <paramref name="summary"/> is in more than one workload group.</summary>
    private static bool WorkloadsOverlap(ValidationSummary summary) => summary.ByWorkload.Sum(group => group.Count) > summary.Overall.Count;

    /// <summary>A metric in words, with its unit.</summary>
    private static string MetricLabel(MeasuredMetric metric) => metric switch
    {
        MeasuredMetric.StepTime => "step time (seconds)",
        MeasuredMetric.TokensPerSecondPerChip => "tokens per second per chip",
        MeasuredMetric.ModelTflopsPerChip => "model TFLOPS per chip",
        _ => "model TFLOPS per chip, attention counted over its causal half",
    };

    private static string Percent(double? percent, string format = "0.0") => percent is { } value ? value.ToString(format, CultureInfo.InvariantCulture) + "%" : "-";

    private static string Coverage(ValidationGroup group) => group.BandCoverage.ToString("0%", CultureInfo.InvariantCulture);

    private static string Value(double value) => value.ToString(value >= 100 ? "0" : "0.000", CultureInfo.InvariantCulture);

    private static string HeldOut(ValidationOutcome outcome) => outcome.HeldOutErrorPercent is { } error ? Signed(error) : "-";

    private static string Signed(double percent) => Math.Round(percent, 1).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%";
}
