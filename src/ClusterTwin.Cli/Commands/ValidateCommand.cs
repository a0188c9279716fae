using System.ComponentModel;
using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin validate [--cases DIR] [--json]</c>: predictions against published measurements.</summary>
public sealed class ValidateCommand(IAnsiConsole console) : Command<ValidateCommand.Settings>
{
    /// <summary>Arguments of <c>validate</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>Folders of case files.</summary>
        [CommandOption("--cases <DIR>")]
        [Description("Folder of validation case files (default: validation/cases beside the catalogue). Repeatable.")]
        public string[] Cases { get; init; } = [];

        /// <summary>Print JSON.</summary>
        [CommandOption("--json")]
        [Description("Print the outcome as JSON.")]
        public bool Json { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalogDirectory = CatalogLoader.Locate(settings.Catalog);
        var catalog = CatalogLoader.Load(catalogDirectory);
        var folders = settings.Cases.Length > 0 ? settings.Cases : [Path.Combine(Path.GetDirectoryName(Path.GetFullPath(catalogDirectory))!, "validation", "cases")];
        var missing = folders.FirstOrDefault(folder => !Directory.Exists(folder));
        if (missing is not null)
        {
            throw new InputException(missing, "validation case folder not found");
        }

        var outcomes = ValidationRun.Run(folders.SelectMany(folder => ValidationCaseLoader.LoadAll(folder, catalog)));
        if (settings.Json)
        {
            var document = new
            {
                cases = outcomes.Select(outcome => new
                {
                    id = outcome.Case.Id,
                    source = outcome.Case.Source,
                    metric = outcome.Case.MetricName,
                    predicted = outcome.Predicted,
                    measured = outcome.Measured,
                    errorPercent = outcome.ErrorPercent,
                }),
                summary = new
                {
                    count = outcomes.Length,
                    meanAbsErrorPercent = ValidationRun.MeanAbsoluteErrorPercent(outcomes),
                    maxAbsErrorPercent = ValidationRun.MaximumAbsoluteErrorPercent(outcomes),
                },
            };
            console.Profile.Out.Writer.WriteLine(Json.Serialize(document));
            return 0;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("Predicted vs measured");
        table.AddColumns("case", "metric", "measured", "predicted", "error");
        foreach (var outcome in outcomes)
        {
            table.AddRow(outcome.Case.Id, outcome.Case.MetricName, Value(outcome.Measured), Value(outcome.Predicted),
                outcome.ErrorPercent.ToString("+0.0;-0.0", CultureInfo.InvariantCulture) + "%");
        }

        console.Write(table);
        console.MarkupLineInterpolated(
            $"{outcomes.Length} cases: mean absolute error {ValidationRun.MeanAbsoluteErrorPercent(outcomes):0.00}%, worst {ValidationRun.MaximumAbsoluteErrorPercent(outcomes):0.00}%");
        return 0;
    }

    private static string Value(double value) => value.ToString(value >= 100 ? "0" : "0.000", CultureInfo.InvariantCulture);
}
