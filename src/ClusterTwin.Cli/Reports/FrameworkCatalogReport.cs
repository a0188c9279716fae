using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Workloads;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The catalogue's training and serving frameworks for <c>catalog list</c> and <c>catalog show</c>.</summary>
internal static class FrameworkCatalogReport
{
    /// <summary>Every framework id.</summary>
    public static IEnumerable<string> Ids(HardwareCatalog catalog) => catalog.TrainingFrameworks.Keys.Concat(catalog.Frameworks.Keys);

    /// <summary>One table of training frameworks, one of serving frameworks.</summary>
    public static void WriteList(IAnsiConsole console, HardwareCatalog catalog)
    {
        var training = new Table().Border(TableBorder.Rounded).Title("Training frameworks");
        training.AddColumns("id", "name", "default for", "expert launch (+ scaled formats)", "expert overlap realized", "fully sharded weights", "gradient reduction");
        foreach (var framework in catalog.TrainingFrameworks.Values)
        {
            training.AddRow(Markup.Escape(framework.Id), Markup.Escape(framework.Name), Markup.Escape(string.Join(", ", framework.DefaultForVendors)),
                $"{framework.ExpertLaunch} (+ {framework.ExpertQuantizeLaunch})", framework.ExpertOverlap is { } overlap ? Format.Percent(overlap.Realized) : "does not overlap",
                Weights(framework.FullyShardedWeights), GradientReductionKeys.Name(framework.GradientReduction));
        }

        console.Write(training);
        var serving = new Table().Border(TableBorder.Rounded).Title("Serving frameworks");
        serving.AddColumns("id", "name", "layer overhead", "request overhead (P99)", "matrix factor", "fit error (held out)");
        foreach (var framework in catalog.Frameworks.Values)
        {
            serving.AddRow(Markup.Escape(framework.Id), Markup.Escape(framework.Name), framework.LayerOverhead.ToString(), RequestOverhead(framework),
                framework.MatrixScale.ToString("0.###", CultureInfo.InvariantCulture),
                framework.Fit is { } fit ? $"{fit.MeanAbsoluteErrorPercent:0.0}% ({(fit.HeldOutMeanAbsoluteErrorPercent is { } heldOut ? $"{heldOut:0.0}%" : "-")})" : "not fitted");
        }

        console.Write(serving);
    }

    /// <summary>One framework's constants, provenance and fit; false when no framework has that id.</summary>
    public static bool WriteEntry(IAnsiConsole console, HardwareCatalog catalog, string id)
    {
        if (catalog.TrainingFrameworks.TryGetValue(id, out var training))
        {
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"{training.Name} (training framework)")).AddColumns("field", "value");
            table.AddRow("default for vendors", Markup.Escape(training.DefaultForVendors.IsEmpty ? "none (named by scenarios)" : string.Join(", ", training.DefaultForVendors)));
            table.AddRow("expert launch", $"{training.ExpertLaunch}, plus {training.ExpertQuantizeLaunch} under scaled formats");
            table.AddRow("expert overlap", training.ExpertOverlap is { } overlap
                ? $"realizes {Format.Percent(overlap.Realized)} of the ideal; communication takes {Format.Percent(overlap.CommunicationComputeShare)} of the chip"
                : "does not overlap expert communication");
            table.AddRow("hidden data-parallel collectives", training.CollectiveChannels is { } channels
                ? Markup.Escape($"on {string.Join(", ", channels.Vendors)} chips, {channels.PerMember} channels per member in a system across systems, {channels.Most} inside one (and at most), of {channels.Multiprocessors} multiprocessors: the compute they overlap runs that share longer")
                : "take none of the compute");
            table.AddRow("fully sharded weights", Weights(training.FullyShardedWeights));
            table.AddRow("gradient reduction", GradientReductionKeys.Name(training.GradientReduction));
            table.AddRow("low-precision multiply inputs", training.SavedMultiplyInputs == SavedMultiplyInputs.Quantized
                ? "kept for the backward pass in the multiply's format (the cast copy)"
                : "kept for the backward pass in BF16 (cast again in the backward pass)");
            table.AddRow("activation offloading", training.OffloadsActivations ? "on Transformer Engine's schedule (plan.offload_activations)" : "none (a plan that offloads is invalid)");
            table.AddRow("unfused token routing", training.UnfusedTokenRouting is { } routing
                ? Markup.Escape($"{routing.ToString("0.00", CultureInfo.InvariantCulture)}x the fused kernels' time (training.fused_token_permutation: false)" +
                    (training.UnfusedTokenRoutingRange is { } range ? $", banded by {range.Low.ToString("0.00", CultureInfo.InvariantCulture)}x to {range.High.ToString("0.00", CultureInfo.InvariantCulture)}x" : string.Empty))
                : "not measured (a scenario without fused permutation is invalid)");
            table.AddRow("fit", Markup.Escape(Fit(training.Fit)));
            table.AddRow("slowdown without recompute", training.NoRecomputeSlowdown is { } slowdown
                ? Markup.Escape($"{slowdown.ToString("0.000", CultureInfo.InvariantCulture)}x the kernels' time; {Fit(training.NoRecomputeFit)}")
                : "none (its kernels cost the same with or without recompute)");
            table.AddRow("provenance", Markup.Escape(training.Provenance));
            console.Write(table);
            return true;
        }

        if (catalog.Frameworks.TryGetValue(id, out var serving))
        {
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape($"{serving.Name} (serving framework)")).AddColumns("field", "value");
            table.AddRow("layer overhead", serving.LayerOverhead.ToString());
            table.AddRow("request overhead", Markup.Escape(RequestOverhead(serving) + (serving.RequestOverheadP99 is null ? string.Empty : ": the median (P99), log-normal between")));
            table.AddRow("matrix factor", serving.MatrixScale.ToString("0.###", CultureInfo.InvariantCulture));
            table.AddRow("fit", Markup.Escape(Fit(serving.Fit)));
            table.AddRow("provenance", Markup.Escape(serving.Provenance));
            console.Write(table);
            return true;
        }

        return false;
    }

    private static string Weights(FullyShardedWeights weights) =>
        weights == FullyShardedWeights.MasterOnly ? "FP32 shard only" : "compute shard and FP32 master";

    private static string Fit(FrameworkFit? fit) => fit is null
        ? "not fitted"
        : $"{fit.Figures} figures of {fit.FittedOn.Length} runs: {fit.MeanAbsoluteErrorPercent:0.0}% mean error" +
          (fit.HeldOutMeanAbsoluteErrorPercent is { } heldOut ? $", held out {heldOut:0.0}%" : string.Empty) + $" ({fit.Procedure})";

    // The front end's median, and its 99th percentile where it spreads.
    private static string RequestOverhead(ServingFramework framework) =>
        framework.RequestOverheadP99 is { } p99 ? $"{framework.RequestOverhead} ({p99})" : framework.RequestOverhead.ToString();
}
