using System.ComponentModel;
using System.Globalization;
using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin calibrate --family F [--hold-out SOURCE ...]</c>: fit a family's efficiency levels to measured runs.</summary>
public sealed class CalibrateCommand(IAnsiConsole console) : Command<CalibrateCommand.Settings>
{
    /// <summary>Arguments of <c>calibrate</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>The chip family to fit.</summary>
        [CommandOption("--family <FAMILY>")]
        [Description("Chip family to fit (a file in catalog/efficiency/).")]
        public string Family { get; init; } = string.Empty;

        /// <summary>Sources kept out of the fit.</summary>
        [CommandOption("--hold-out <SOURCE>")]
        [Description("Source key whose cases are kept out of the fit and reported separately. Repeatable.")]
        public string[] HoldOut { get; init; } = [];

        /// <summary>Report without writing.</summary>
        [CommandOption("--dry-run")]
        [Description("Report the fit without writing it to the catalogue.")]
        public bool DryRun { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        if (!catalog.Efficiencies.TryGetValue(settings.Family, out var efficiency) || settings.Family == HardwareCatalog.DefaultFamily)
        {
            throw new InputException("--family", $"'{settings.Family}' is not a calibratable family (expected one of: {string.Join(", ", catalog.Efficiencies.Keys.Where(key => key != HardwareCatalog.DefaultFamily))})");
        }

        var cases = CatalogSettings.LoadCases([], catalog).Training;
        var procedure = $"clustertwin calibrate --family {settings.Family}" + string.Concat(settings.HoldOut.Order(StringComparer.Ordinal).Select(key => $" --hold-out {key}"));
        var result = EfficiencyCalibration.Fit(efficiency, cases, settings.HoldOut, procedure);
        var fitted = efficiency.WithFit(result.Fit);
        var heldOut = ValidationRun.Run(EfficiencyCalibration.Using(result.HeldOut, fitted));
        console.MarkupLineInterpolated($"Family {settings.Family}: matrix level {result.Fit.MatrixScale.ToString("0.###", CultureInfo.InvariantCulture)}, attention level {result.Fit.AttentionScale.ToString("0.###", CultureInfo.InvariantCulture)}");
        console.MarkupLineInterpolated($"Fitted on {result.Fit.Cases} cases ({string.Join(", ", result.Fit.FittedOn)}): mean absolute error {result.Fit.MeanAbsoluteErrorPercent:0.00}%");
        if (heldOut.Length > 0)
        {
            var group = ValidationGroup.Of("held out", heldOut);
            console.MarkupLineInterpolated($"Held out {heldOut.Length} cases ({string.Join(", ", settings.HoldOut)}): mean absolute error {group.MeanAbsoluteErrorPercent:0.00}%, worst {group.MaximumAbsoluteErrorPercent:0.00}%");
        }

        if (!settings.DryRun)
        {
            var path = Path.Combine(catalog.Directory, "efficiency", settings.Family + ".yaml");
            CatalogSettings.WriteFile(path, "the fit", () => EfficiencyFitWriter.Write(path, result.Fit));
            console.MarkupLineInterpolated($"Written to {path}");
        }

        return 0;
    }
}
