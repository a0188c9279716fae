using System.ComponentModel;
using System.Globalization;
using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>
/// <c>clustertwin calibrate --family F [--hold-out SOURCE ...]</c>: fit a family's efficiency levels to measured runs;
/// <c>clustertwin calibrate --framework F</c>: fit a training framework's expert launch times to its mixture-of-experts runs;
/// <c>clustertwin calibrate --kernels FILE --chip C</c>: derive the chip's family's matrix, attention and memory curves
/// from kernel timings on the chip (<c>tools/measure-kernels.py</c>);
/// <c>clustertwin calibrate --head-sizes FILE --chip C</c>: derive the family's fused-attention factors for head sizes
/// other than 128 from timings at several (<c>tools/measure-kernels.py --only head-sizes</c>);
/// <c>clustertwin calibrate --token-routing FILE --chip C --framework F</c>: derive the framework's unfused token routing
/// cost from its timings on the chip (<c>tools/measure-kernels.py --only moe-routing</c>).
/// </summary>
public sealed class CalibrateCommand(IAnsiConsole console) : Command<CalibrateCommand.Settings>
{
    /// <summary>Arguments of <c>calibrate</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>The chip family to fit.</summary>
        [CommandOption("--family <FAMILY>")]
        [Description("Chip family to fit (a file in catalog/efficiency/).")]
        public string Family { get; init; } = string.Empty;

        /// <summary>The training framework to fit, instead of a family.</summary>
        [CommandOption("--framework <FRAMEWORK>")]
        [Description("Training framework to fit instead (a file in catalog/training-frameworks/): its expert launch times on its mixture-of-experts runs, and where its file has one its slowdown without recompute on its dense runs without recompute (published and supplementary cases); with --token-routing, the framework whose unfused routing was timed.")]
        public string? Framework { get; init; }

        /// <summary>Kernel timings to derive a family's curve shapes from, instead of fitting levels.</summary>
        [CommandOption("--kernels <FILE>")]
        [Description("Kernel timings written by tools/measure-kernels.py: derive the measured chip's family's matrix, attention and memory curves from them (then fit the levels with --family).")]
        public string? Kernels { get; init; }

        /// <summary>Attention timings at several head sizes, to derive the family's head-size factors from.</summary>
        [CommandOption("--head-sizes <FILE>")]
        [Description("Attention timings at several head sizes written by tools/measure-kernels.py --only head-sizes: derive the measured chip's family's fused-attention factors for head sizes other than 128.")]
        public string? HeadSizes { get; init; }

        /// <summary>Timings of a framework's unfused token routing, to derive its cost against the fused kernels from.</summary>
        [CommandOption("--token-routing <FILE>")]
        [Description("Timings of the unfused token routing written by tools/measure-kernels.py --only moe-routing: with --framework and --chip, derive the framework's unfused_token_routing (how many times the fused kernels' traffic it takes).")]
        public string? TokenRouting { get; init; }

        /// <summary>The chip the kernel timings were measured on.</summary>
        [CommandOption("--chip <CHIP>")]
        [Description("With --kernels, --head-sizes or --token-routing: the chip measured (a file in catalog/chips/), whose peaks and memory bandwidth the efficiencies are fractions of.")]
        public string? Chip { get; init; }

        /// <summary>Which fused attention's timings make the attention curve.</summary>
        [CommandOption("--attention-backend <NAME>")]
        [Description("With --kernels or --head-sizes: which measured fused attention makes the attention curve or the factors (default CUDNN_ATTENTION, Transformer Engine's on Hopper).")]
        public string AttentionBackend { get; init; } = KernelCurveFit.DefaultAttentionBackend;

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
        if (settings.Kernels is not null && settings.HeadSizes is not null)
        {
            throw new InputException("--head-sizes", "derives the head-size factors from their own timings: give it without --kernels (run each in turn)");
        }

        if (settings.TokenRouting is not null && (settings.Kernels is not null || settings.HeadSizes is not null))
        {
            throw new InputException("--token-routing", "derives a framework's unfused routing cost from its own timings: give it without --kernels and --head-sizes (run each in turn)");
        }

        if (settings.Kernels is { } kernels)
        {
            return CalibrateCurves(catalog, kernels, settings);
        }

        if (settings.HeadSizes is { } headSizes)
        {
            return CalibrateHeadSizes(catalog, headSizes, settings);
        }

        if (settings.TokenRouting is { } routing)
        {
            return CalibrateTokenRouting(catalog, routing, settings);
        }

        if (settings.Framework is { } framework)
        {
            return CalibrateFramework(catalog, framework, settings);
        }

        if (!catalog.Efficiencies.TryGetValue(settings.Family, out var efficiency) || settings.Family == HardwareCatalog.DefaultFamily)
        {
            var families = string.Join(", ", catalog.Efficiencies.Keys.Where(key => key != HardwareCatalog.DefaultFamily));
            throw new InputException("--family", string.IsNullOrEmpty(settings.Family)
                ? $"missing: name a family to fit (one of: {families}), or --framework, --kernels with --chip"
                : $"'{settings.Family}' is not a calibratable family (expected one of: {families})");
        }

        // Published and supplementary cases: a case keeps itself out of its family's levels with not_fitted, as every
        // supplementary case of a family with published runs does.
        var cases = CatalogSettings.CalibrationCases(catalog).Training;
        var heldOutSources = settings.HoldOut.Distinct(StringComparer.Ordinal).ToArray();
        var procedure = $"clustertwin calibrate --family {settings.Family}" + string.Concat(heldOutSources.Order(StringComparer.Ordinal).Select(key => $" --hold-out {key}"));
        var result = EfficiencyCalibration.Fit(efficiency, cases, heldOutSources, procedure);
        var fitted = efficiency.WithFit(result.Fit);
        var heldOut = ValidationRun.Run(EfficiencyCalibration.Using(result.HeldOut, fitted));
        console.MarkupLineInterpolated($"Family {settings.Family}: matrix level {result.Fit.MatrixScale.ToString("0.###", CultureInfo.InvariantCulture)}, attention level {result.Fit.AttentionScale.ToString("0.###", CultureInfo.InvariantCulture)}");
        console.MarkupLineInterpolated($"Fitted on {result.Fit.Cases} cases ({string.Join(", ", result.Fit.FittedOn)}): mean absolute error {result.Fit.MeanAbsoluteErrorPercent:0.00}%");
        if (heldOut.Length > 0)
        {
            var group = ValidationGroup.Of("held out", heldOut);
            console.MarkupLineInterpolated($"Held out {heldOut.Length} cases ({string.Join(", ", heldOutSources)}): mean absolute error {group.MeanAbsoluteErrorPercent:0.00}%, worst {group.MaximumAbsoluteErrorPercent:0.00}%");
        }

        if (!settings.DryRun)
        {
            var path = Path.Combine(catalog.Directory, "efficiency", settings.Family + ".yaml");
            CatalogSettings.WriteFile(path, "the fit", () => EfficiencyFitWriter.Write(path, result.Fit));
            console.MarkupLineInterpolated($"Written to {path}");
        }

        return 0;
    }

    // The chip named with --kernels or --head-sizes (option), whose family has a file of its own to write to.
    private static Hardware.Chip MeasuredChip(HardwareCatalog catalog, Settings settings, string option)
    {
        if (settings.Framework is not null || settings.Family.Length > 0 || settings.HoldOut.Length > 0)
        {
            throw new InputException(option, $"derives {(option == "--kernels" ? "curve shapes" : "head-size factors")} from kernel timings alone: give it with --chip, without --family, --framework and --hold-out (fit the levels afterwards with --family)");
        }

        if (settings.Chip is not { } id || !catalog.Chips.TryGetValue(id, out var chip))
        {
            throw new InputException("--chip", $"{(settings.Chip is null ? "missing" : $"unknown chip '{settings.Chip}'")}: {option} needs the chip the timings were measured on (expected one of: {string.Join(", ", catalog.Chips.Keys)})");
        }

        if (!catalog.Efficiencies.ContainsKey(chip.Family) || chip.Family == HardwareCatalog.DefaultFamily)
        {
            throw new InputException("--chip", $"{id}'s family '{chip.Family}' has no efficiency file of its own to write to (create catalog/efficiency/{chip.Family}.yaml first)");
        }

        return chip;
    }

    private int CalibrateHeadSizes(HardwareCatalog catalog, string file, Settings settings)
    {
        var chip = MeasuredChip(catalog, settings, "--head-sizes");
        var efficiency = catalog.Efficiencies[chip.Family];
        if (efficiency.CarriedOverFrom is not null && !efficiency.OwnCurves.Contains("attention"))
        {
            throw new InputException("--chip", $"{chip.Id}'s family '{chip.Family}' carries {efficiency.CarriedOverFrom}'s attention curve over: the head-size factors belong to a measured attention curve (measure it first with --kernels)");
        }

        var measurements = KernelMeasurements.Read(file);
        KernelCurveFit.CheckChip(measurements, chip);
        var procedure = $"clustertwin calibrate --head-sizes {file.Replace('\\', '/')} --chip {chip.Id}" +
            (settings.AttentionBackend == KernelCurveFit.DefaultAttentionBackend ? string.Empty : $" --attention-backend {settings.AttentionBackend}");
        var headSizes = AttentionHeadSizeFit.Fit(measurements, settings.AttentionBackend, procedure);
        console.MarkupLineInterpolated($"{chip.Family} fused attention against head size {Hardware.AttentionHeadSizes.ReferenceSize}, from {measurements.Device} ({measurements.MeasuredAt}):");
        foreach (var factor in headSizes.Factors)
        {
            console.MarkupLineInterpolated($"  {factor.HeadSize}: forward {factor.Forward.ToString("0.###", CultureInfo.InvariantCulture)}, backward {factor.Backward.ToString("0.###", CultureInfo.InvariantCulture)} ({factor.Samples} sequence lengths)");
        }

        if (!settings.DryRun)
        {
            var path = Path.Combine(catalog.Directory, "efficiency", chip.Family + ".yaml");
            CatalogSettings.WriteFile(path, "the head-size factors", () => EfficiencyFitWriter.WriteHeadSizes(path, headSizes));
            console.MarkupLineInterpolated($"Written to {path}; the levels were fitted without them: fit them again with clustertwin calibrate --family {chip.Family}");
        }

        return 0;
    }

    private int CalibrateCurves(HardwareCatalog catalog, string file, Settings settings)
    {
        var chip = MeasuredChip(catalog, settings, "--kernels");
        var id = chip.Id;
        var measurements = KernelMeasurements.Read(file);
        var curves = KernelCurveFit.Fit(measurements, chip, settings.AttentionBackend);
        var efficiency = catalog.Efficiencies[chip.Family];
        if (curves["matrix"] is null && (efficiency.CarriedOverFrom is null || efficiency.OwnCurves.Contains("matrix") || efficiency.OwnCurves.Contains("memory")))
        {
            throw new InputException("--kernels", $"times attention alone, but {chip.Family} {(efficiency.CarriedOverFrom is null ? "carries no family's curves over" : "writes matrix and memory curves of its own")}: " +
                "the measured curves are replaced together, so the family would lose them (measure the chip with tools/measure-kernels.py, or give a family that carries its matrix and memory curves over)");
        }

        var procedure = $"clustertwin calibrate --kernels {file.Replace('\\', '/')} --chip {id}" +
            (settings.AttentionBackend == KernelCurveFit.DefaultAttentionBackend ? string.Empty : $" --attention-backend {settings.AttentionBackend}");
        console.MarkupLineInterpolated($"{chip.Family} curves from {measurements.Device} ({measurements.MeasuredAt}):");
        foreach (var curve in curves.Curves)
        {
            var text = string.Join(", ", curve.Points.Select(point => $"{KernelCurveFit.SizeText(point.Size, curve.Unit)}: {point.Efficiency:0.###} ({point.Samples})"));
            console.MarkupLineInterpolated($"  {curve.Key}: {text}");
        }

        if (curves["matrix"] is null)
        {
            console.MarkupLineInterpolated($"  attention alone: the matrix and memory curves stay {efficiency.CarriedOverFrom}'s");
        }
        else
        {
            console.MarkupLineInterpolated($"  {curves.MemoryBound} memory-bound multiplies left out of the matrix curve");
        }
        if (!settings.DryRun)
        {
            var path = Path.Combine(catalog.Directory, "efficiency", chip.Family + ".yaml");
            CatalogSettings.WriteFile(path, "the curves", () => EfficiencyFitWriter.WriteCurves(path, curves, measurements, procedure));
            console.MarkupLineInterpolated($"Written to {path}, without the levels fitted on the curves it replaced; fit them again with: clustertwin calibrate --family {chip.Family}");
        }

        return 0;
    }

    private int CalibrateTokenRouting(HardwareCatalog catalog, string file, Settings settings)
    {
        if (settings.Family.Length > 0 || settings.HoldOut.Length > 0)
        {
            throw new InputException("--token-routing", "derives a framework's unfused routing cost from its own timings: give it with --framework and --chip, without --family and --hold-out");
        }

        if (settings.Framework is not { } id || !catalog.TrainingFrameworks.TryGetValue(id, out var framework))
        {
            throw new InputException("--framework", $"{(settings.Framework is null ? "missing" : $"unknown training framework '{settings.Framework}'")}: --token-routing writes to the framework whose unfused path was timed (expected one of: {string.Join(", ", catalog.TrainingFrameworks.Keys)})");
        }

        // The timings are of eager PyTorch's routing (tools/measure-kernels.py --only moe-routing): a framework whose
        // expert layers the host does not launch kernel by kernel (compiled, or without experts) runs another path.
        if (framework.ExpertLaunch <= Duration.Zero)
        {
            var eager = string.Join(", ", catalog.TrainingFrameworks.Values.Where(other => other.ExpertLaunch > Duration.Zero).Select(other => other.Id));
            throw new InputException("--framework", $"'{id}' launches no expert kernels from the host (expert_launch 0 us: compiled, or without an expert path), so it does not run the eager PyTorch routing these timings are of (expected a framework that does: {eager})");
        }

        if (settings.Chip is not { } chipId || !catalog.Chips.TryGetValue(chipId, out var chip))
        {
            throw new InputException("--chip", $"{(settings.Chip is null ? "missing" : $"unknown chip '{settings.Chip}'")}: --token-routing needs the chip the timings were measured on (expected one of: {string.Join(", ", catalog.Chips.Keys)})");
        }

        var (slowdown, range, shapes, skipped) = TokenRoutingFit.Fit(file, chip, catalog.EfficiencyFor(chip));
        static string Factor(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        foreach (var shape in shapes)
        {
            console.MarkupLineInterpolated($"  {shape.Model}, router in {shape.Router}: {shape.Tokens} tokens, hidden {shape.Hidden}, {shape.Experts} experts, top-{shape.PerToken}: {shape.Measured} measured, {shape.Counted} counted: {Factor(shape.Slowdown)}x");
        }

        var procedure = $"clustertwin calibrate --token-routing {file.Replace('\\', '/')} --chip {chip.Id} --framework {id}";
        console.MarkupLineInterpolated($"{id}: unfused token routing {Factor(slowdown)}x the fused kernels' traffic (median of the {TokenRoutingFit.RouterPrecision} router's shapes), banded by {Factor(range.Low)}x to {Factor(range.High)}x (the least shape, and the router in {TokenRoutingFit.HighRouterPrecision}); {skipped} rows left out: failed, or another router precision");
        if (!settings.DryRun)
        {
            var path = Path.Combine(catalog.Directory, CatalogLoader.TrainingFrameworksFolder, id + ".yaml");
            CatalogSettings.WriteFile(path, "the factor", () => EfficiencyFitWriter.ReplaceBlocks(path, ["unfused_token_routing", "unfused_token_routing_range"],
                [$"unfused_token_routing: {Factor(slowdown)}   # written by {procedure}; do not edit by hand",
                 $"unfused_token_routing_range:   # the band's ends: the least {TokenRoutingFit.RouterPrecision}-router shape, and the router in {TokenRoutingFit.HighRouterPrecision}",
                 $"  low: {Factor(range.Low)}",
                 $"  high: {Factor(range.High)}"]));
            console.MarkupLineInterpolated($"Written to {path}");
        }

        return 0;
    }

    private int CalibrateFramework(HardwareCatalog catalog, string id, Settings settings)
    {
        if (settings.Family.Length > 0 || settings.HoldOut.Length > 0)
        {
            throw new InputException("--framework", "fits a training framework on its own cases: give it without --family and --hold-out (each case is held out in turn)");
        }

        if (!catalog.TrainingFrameworks.TryGetValue(id, out var framework))
        {
            throw new InputException("--framework", $"unknown training framework '{id}' (expected one of: {string.Join(", ", catalog.TrainingFrameworks.Keys)})");
        }

        var procedure = $"clustertwin calibrate --framework {id}";
        var cases = CatalogSettings.CalibrationCases(catalog).Training;
        var experts = TrainingFrameworkCalibration.Fit(framework, cases, procedure);
        var slowdown = NoRecomputeCalibration.Fit(framework, cases, procedure);
        if (experts is null && slowdown is null)
        {
            throw new InputException("--framework", framework.NoRecomputeSlowdown is null
                ? $"no mixture-of-experts validation case runs on {id}: nothing to fit (its file has no no_recompute_slowdown to fit on runs without recompute)"
                : $"no validation case fits {id}'s constants: none is a mixture of experts, and none keeps its activations (recompute none or selective) with attention at most {NoRecomputeCalibration.MaximumAttentionShare * 100:0}% of its FLOPs");
        }

        if (experts is not null)
        {
            var fit = experts.Fit;
            console.MarkupLineInterpolated($"{id}: expert launch {experts.ExpertLaunch}, plus {experts.ExpertQuantizeLaunch} under scaled formats; {fit.Figures} cases: mean absolute error {fit.MeanAbsoluteErrorPercent:0.0}%, held out {HeldOut(fit)}");
            if (experts.Spread is { } spread)
            {
                console.MarkupLineInterpolated($"  launch spread (P10-P90 over the {spread.Runs} runs the launch times bind): {spread.Low.ToString("0.00", CultureInfo.InvariantCulture)}x to {spread.High.ToString("0.00", CultureInfo.InvariantCulture)}x the fitted times, which stretch a prediction's band");
            }
        }

        if (slowdown is not null)
        {
            var fit = slowdown.Fit;
            console.MarkupLineInterpolated($"{id}: kernels {slowdown.Slowdown.ToString("0.000", CultureInfo.InvariantCulture)}x slower without full recompute; {fit.Figures} cases: mean absolute error {fit.MeanAbsoluteErrorPercent:0.0}%, held out {HeldOut(fit)} (each chip family at the others' factor)");
            foreach (var family in slowdown.ByFamily)
            {
                console.MarkupLineInterpolated($"  {family.Family}: {family.Cases} cases alone give {family.Slowdown.ToString("0.000", CultureInfo.InvariantCulture)}; mean absolute error {family.UnslowedErrorPercent:0.0}% without the factor, {(family.HeldOutErrorPercent is { } held ? $"{held:0.0}%" : "-")} at the other families' factor");
            }
        }

        if (!settings.DryRun)
        {
            var path = Path.Combine(catalog.Directory, CatalogLoader.TrainingFrameworksFolder, id + ".yaml");
            CatalogSettings.WriteFile(path, "the fit", () =>
            {
                if (experts is not null)
                {
                    EfficiencyFitWriter.ReplaceBlocks(path, ["expert_launch", "expert_quantize_launch", "expert_launch_spread", "fit"], TrainingFrameworkCalibration.Block(experts, procedure));
                }

                if (slowdown is not null)
                {
                    EfficiencyFitWriter.ReplaceBlocks(path, ["no_recompute_slowdown", "no_recompute_fit"], NoRecomputeCalibration.Block(slowdown, procedure));
                }
            });
            console.MarkupLineInterpolated($"Written to {path}");
        }

        return 0;
    }

    private static string HeldOut(ClusterTwin.Workloads.FrameworkFit fit) =>
        fit.HeldOutMeanAbsoluteErrorPercent is { } heldOut ? $"{heldOut:0.0}%" : "-";
}
