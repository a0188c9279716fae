using System.ComponentModel;
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

        /// <summary>Write the markdown page.</summary>
        [CommandOption("--markdown <FILE>")]
        [Description("Also write the results as a markdown page (docs/validation.md is made this way).")]
        public string? Markdown { get; init; }

        /// <summary>Print JSON.</summary>
        [CommandOption("--json")]
        [Description("Print the outcome as JSON.")]
        public bool Json { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var cases = CatalogSettings.LoadCases(settings.Cases, catalog);
        var summary = ValidationSummary.Of(ValidationRun.Run(cases, CrossValidation.HeldOutPredictions(catalog, cases)));
        if (settings.Markdown is not null)
        {
            CatalogSettings.WriteReport(settings.Markdown, ValidationReport.Markdown(summary));
        }

        if (settings.Json)
        {
            console.Profile.Out.Writer.WriteLine(Json.Serialize(ValidationReport.Document(summary)));
        }
        else
        {
            ValidationReport.Write(console, summary);
        }

        return 0;
    }
}
