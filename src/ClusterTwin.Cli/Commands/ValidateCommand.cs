using ClusterTwin.Cli.Reports;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin validate [--cases DIR] [--json]</c>: predictions against published measurements.</summary>
public sealed class ValidateCommand(IAnsiConsole console) : Command<ValidateCommand.Settings>
{
    /// <summary>Arguments of <c>validate</c>.</summary>
    public sealed class Settings : CasesSettings;

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var cases = CatalogSettings.LoadCases(settings.Cases, catalog);
        var summary = ValidationSummary.Of(CrossValidation.WithHeldOut(catalog, ValidationRun.Run(cases.Training), () => FrameworkCases(catalog)))
            with { Serving = ServingValidationSummary.Of(ServingValidationRun.Run(cases.Serving)) };
        var folders = string.Join(", ", settings.Cases.Select(folder => folder.Replace('\\', '/').TrimEnd('/') + "/"));
        var command = "./clustertwin validate" + string.Concat(settings.Cases.Select(folder => $" --cases {folder.Replace('\\', '/')}")) + $" --markdown {settings.Markdown?.Replace('\\', '/')}";
        settings.Emit(console, () => settings.Cases.Length == 0 ? ValidationReport.Markdown(summary) : ValidationReport.Markdown(summary, command, folders), () => ValidationReport.Document(summary), output => ValidationReport.Write(output, summary));
        return 0;
    }

    /// <summary>
    /// The cases training frameworks' constants were fitted on, for the held-out predictions of those among the cases
    /// validated; null where the repository's cases cannot be read beside this catalogue (those get none).
    /// </summary>
    private static ValidationCase[]? FrameworkCases(ClusterTwin.Catalog.HardwareCatalog catalog)
    {
        try
        {
            return [.. CatalogSettings.CalibrationCases(catalog).Training];
        }
        catch (ClusterTwin.Catalog.InputException)
        {
            return null;
        }
    }
}
