using System.ComponentModel;
using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin calibrate-serving [--framework F] [--dry-run]</c>: fit serving frameworks' overheads and matrix factor to published runs.</summary>
public sealed class CalibrateServingCommand(IAnsiConsole console) : Command<CalibrateServingCommand.Settings>
{
    /// <summary>Arguments of <c>calibrate-serving</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>The framework to fit; every framework with cases when absent.</summary>
        [CommandOption("--framework <ID>")]
        [Description("Framework to fit (a file in catalog/frameworks/); every framework with serving cases when absent.")]
        public string? Framework { get; init; }

        /// <summary>Report without writing.</summary>
        [CommandOption("--dry-run")]
        [Description("Report the fit without writing it to the catalogue.")]
        public bool DryRun { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        if (settings.Framework is { } named && !catalog.Frameworks.ContainsKey(named))
        {
            throw new InputException("--framework", $"unknown framework '{named}' (expected one of: {string.Join(", ", catalog.Frameworks.Keys)})");
        }

        var cases = CatalogSettings.LoadCases([], catalog).Serving;
        foreach (var framework in catalog.Frameworks.Values.Where(framework => settings.Framework is null || framework.Id == settings.Framework))
        {
            var result = FrameworkCalibration.Fit(framework, cases, "clustertwin calibrate-serving");
            if (result is null)
            {
                console.MarkupLineInterpolated($"{framework.Id}: no serving case names it; left as it is");
                continue;
            }

            var fit = result.Fit;
            console.MarkupLineInterpolated($"{framework.Id}: layer overhead {result.Constants.LayerOverhead}, request overhead {result.Constants.RequestOverhead}{(result.Constants.RequestOverheadP99 is { } p99 ? $" (P99 {p99})" : string.Empty)}, matrix factor {result.Constants.MatrixScale:0.##}; {fit.FittedOn.Length} cases, {fit.Figures} figures: mean absolute error {fit.MeanAbsoluteErrorPercent:0.0}%, held out {(fit.HeldOutMeanAbsoluteErrorPercent is { } heldOut ? $"{heldOut:0.0}%" : "-")}");
            if (!settings.DryRun)
            {
                var path = Path.Combine(catalog.Directory, "frameworks", framework.Id + ".yaml");
                CatalogSettings.WriteFile(path, "the fit", () => EfficiencyFitWriter.ReplaceBlocks(path, ["layer_overhead", "request_overhead", "request_overhead_p99", "matrix_scale", "fit", "held_out_constants"], FrameworkCalibration.Block(result)));
            }
        }

        return 0;
    }
}
