using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>Tables of the catalogue for <c>catalog list</c> and <c>catalog show</c>.</summary>
public static class CatalogReport
{
    /// <summary>Every id in the catalogue.</summary>
    public static IEnumerable<string> AllIds(HardwareCatalog catalog) =>
        catalog.Chips.Keys.Concat(catalog.Systems.Keys).Concat(catalog.Fabrics.Keys).Concat(catalog.Models.Keys).Concat(FrameworkCatalogReport.Ids(catalog));

    /// <summary>Writes one table per kind of entry.</summary>
    public static void WriteList(IAnsiConsole console, HardwareCatalog catalog)
    {
        var chips = new Table().Border(TableBorder.Rounded).Title("Chips");
        chips.AddColumns("id", "name", "status", "BF16 peak", "FP8 peak", "HBM", "HBM bandwidth");
        foreach (var chip in catalog.Chips.Values)
        {
            chips.AddRow(Markup.Escape(chip.Id), Markup.Escape(chip.Name), chip.Status.ToString().ToLowerInvariant(),
                chip.PeakRate(Precision.Bf16)?.ToString() ?? "-", Fp8Peak(chip),
                chip.MemoryCapacity.Value.ToString(), chip.MemoryBandwidth.Value.ToString());
        }

        console.Write(chips);
        var systems = new Table().Border(TableBorder.Rounded).Title("Systems");
        systems.AddColumns("id", "name", "chips", "scale-up", "per chip", "scale-out per chip");
        foreach (var system in catalog.Systems.Values)
        {
            systems.AddRow(Markup.Escape(system.Id), Markup.Escape(system.Name), system.Chips.Value.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"{system.Topology.Kind.ToString().ToLowerInvariant()} [[{string.Join("x", system.Topology.Shape)}]]",
                system.ScaleUpBandwidth.Value.Stated.ToString(), system.ScaleOutBandwidth?.Value.ToString() ?? "-");
        }

        console.Write(systems);
        var fabrics = new Table().Border(TableBorder.Rounded).Title("Fabrics");
        fabrics.AddColumns("id", "name", "tiers", "reaches chips");
        foreach (var fabric in catalog.Fabrics.Values)
        {
            fabrics.AddRow(Markup.Escape(fabric.Id), Markup.Escape(fabric.Name), fabric.Tiers.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), Format.Count(fabric.MaximumEndpoints));
        }

        console.Write(fabrics);
        var models = new Table().Border(TableBorder.Rounded).Title("Models");
        models.AddColumns("id", "name", "parameters", "layers", "hidden", "heads (kv)");
        foreach (var model in catalog.Models.Values)
        {
            models.AddRow(Markup.Escape(model.Id), Markup.Escape(model.Name), Format.Number(model.Parameters), model.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture),
                model.HiddenSize.ToString(System.Globalization.CultureInfo.InvariantCulture), $"{model.AttentionHeads} ({model.KeyValueHeads})");
        }

        console.Write(models);
        FrameworkCatalogReport.WriteList(console, catalog);
    }

    /// <summary>Writes one entry with the source of each figure; false when no entry has that id.</summary>
    public static bool WriteEntry(IAnsiConsole console, HardwareCatalog catalog, string id)
    {
        if (catalog.Chips.TryGetValue(id, out var chip))
        {
            var table = FigureTable($"{chip.Name} ({chip.Vendor}, {chip.Status.ToString().ToLowerInvariant()}, family {chip.Family})");
            foreach (var (precision, rate) in chip.PeakRates)
            {
                AddFigure(table, catalog, $"peak {precision.Key()} (dense)", rate, rate.Value.ToString());
            }

            if (!chip.ScaledFormats.IsEmpty)
            {
                table.AddRow("hardware-scaled formats", Markup.Escape(string.Join(", ", chip.ScaledFormats)), "published", Markup.Escape(chip.ScaledFormatsSource ?? string.Empty));
            }

            AddFigure(table, catalog, "HBM capacity", chip.MemoryCapacity, chip.MemoryCapacity.Value.ToString());
            AddFigure(table, catalog, "HBM bandwidth", chip.MemoryBandwidth, chip.MemoryBandwidth.Value.ToString());
            AddOptional(table, catalog, "on-chip memory", chip.OnChipMemory);
            AddOptional(table, catalog, "framework ranks per chip", chip.RanksPerChip);
            if (chip.ScaleUpBandwidth is { } link)
            {
                AddFigure(table, catalog, $"scale-up ({chip.ScaleUpName})", link, link.Value.ToString());
            }

            AddOptional(table, catalog, "scale-out per chip", chip.ScaleOutBandwidth);
            AddOptional(table, catalog, "thermal design power", chip.ThermalDesignPower);
            if (chip.Power is { } power)
            {
                AddRanged(table, catalog, "idle power (in a job)", power.Idle);
                foreach (var (precision, energy) in power.MatrixEnergy)
                {
                    AddRanged(table, catalog, $"matrix energy ({precision.Key()})", energy);
                }

                AddRanged(table, catalog, "memory energy", power.MemoryEnergy);
                AddRanged(table, catalog, "link energy", power.LinkEnergy);
            }

            if (catalog.Reliability is { } reliability)
            {
                // The family's, or the default one (docs/reliability.md): what interrupts a run on this chip.
                var chipTime = reliability.SettingsFor(chip.Family).ChipTimeBetweenInterruptions;
                static string Hours(Duration time) => (time.Seconds / 3600).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) + " h";
                AddFigure(table, catalog, "chip-time between job interruptions", chipTime,
                    Hours(chipTime.Value) + (chipTime.Range is { } range ? $" ({Hours(range.Low)} - {Hours(range.High)})" : string.Empty));
            }

            console.Write(table);
            return true;
        }

        if (catalog.Systems.TryGetValue(id, out var system))
        {
            var table = FigureTable($"{system.Name}: {system.Chips.Value} x {system.Chip.Name}");
            AddFigure(table, catalog, "chips", system.Chips, system.Chips.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("scale-up topology", Markup.Escape($"{system.Topology.Kind.ToString().ToLowerInvariant()} [{string.Join(" x ", system.Topology.Shape)}] ({system.ScaleUpName})"), string.Empty, string.Empty);
            AddFigure(table, catalog, "scale-up per chip", system.ScaleUpBandwidth, system.ScaleUpBandwidth.Value.ToString());
            AddFigure(table, catalog, "scale-up latency", system.ScaleUpLatency, system.ScaleUpLatency.Value.ToString());
            AddOptional(table, catalog, system.ScaleOutName is { } network ? $"scale-out per chip ({network})" : "scale-out per chip", system.ScaleOutBandwidth);
            AddOptional(table, catalog, "host link per chip, each way", system.HostLink);
            AddOptional(table, catalog, $"host memory (shared by {system.DomainChips} chips)", system.HostMemory);
            AddOptional(table, catalog, "host memory bandwidth", system.HostMemoryBandwidth);
            AddOptional(table, catalog, "system power", system.SystemPower);
            if (system.Overheads is { } overheads)
            {
                AddRanged(table, catalog, "host power (in a job)", overheads.Host);
                AddRanged(table, catalog, "scale-up switches", overheads.ScaleUpSwitches);
                AddOptional(table, catalog, "power conversion efficiency", overheads.ConversionEfficiency);
                AddOptional(table, catalog, "facility PUE", overheads.PowerUsageEffectiveness);
            }
            console.Write(table);
            return true;
        }

        if (catalog.Fabrics.TryGetValue(id, out var fabric))
        {
            var table = FigureTable($"{fabric.Name} ({fabric.Technology}), reaches {Format.Count(fabric.MaximumEndpoints)} chips");
            for (var index = 0; index < fabric.Tiers.Length; index++)
            {
                var tier = fabric.Tiers[index];
                AddFigure(table, catalog, $"tier {index + 1} ({tier.Name}) radix", tier.Radix, $"{tier.Radix.Value} ports, oversubscription {tier.Oversubscription}:1");
                AddFigure(table, catalog, $"tier {index + 1} ({tier.Name}) latency", tier.Latency, tier.Latency.Value.ToString());
            }

            AddFigure(table, catalog, "collective efficiency", fabric.Efficiency, Format.Percent(fabric.Efficiency.Value));
            console.Write(table);
            return true;
        }

        if (catalog.Models.TryGetValue(id, out var model))
        {
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(model.Name));
            table.AddColumns("field", "value");
            table.AddRow("parameters (computed)", Format.Number(model.Parameters) + (model.PublishedParameters is { } published ? $" (published {Format.Number(published)})" : string.Empty));
            table.AddRow("layers", model.Layers.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("hidden size", model.HiddenSize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("attention heads (key-value)", $"{model.AttentionHeads} ({model.KeyValueHeads}), head size {model.HeadSize}");
            if (model.LatentAttention is { } latent)
            {
                table.AddRow("latent attention", $"query latent {latent.QueryRank}, key-value latent {latent.KeyValueRank}, rotary {latent.RotaryHeadSize} per head, value head {latent.ValueHeadSize}");
            }

            if (model.LocalAttention is { } local)
            {
                var window = local.Kind == LocalAttentionKind.Sliding ? "a sliding window" : "chunks";
                table.AddRow("local attention", Markup.Escape(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{model.LocalAttentionLayerCount} of {model.Layers} layers attend within {window} of {local.Window:N0} tokens; one layer in {local.GlobalEvery} to the whole context")));
            }

            if (model.MultiTokenPredictionDepth > 0)
            {
                table.AddRow("multi-token prediction", $"{model.MultiTokenPredictionDepth} module(s) of {Format.Number(model.MultiTokenPredictionModuleParameters)} parameters each");
            }

            table.AddRow("feed-forward", $"{model.FeedForwardSize} ({model.Activation})");
            if (model.MixtureOfExperts is { } experts)
            {
                table.AddRow("mixture of experts", $"{experts.Routed} routed experts of width {experts.FeedForwardSize}, {experts.PerToken} per token, {experts.Shared} shared; {model.ExpertLayerCount} expert layers and {model.DenseLayerCount} dense" +
                    (experts.Interval > 1 ? $" (every {experts.Interval} layers one expert layer{(experts.DenseLayers > 0 ? $", after {experts.DenseLayers} dense" : string.Empty)})" : experts.DenseLayers > 0 ? " (the dense ones first)" : string.Empty));
                table.AddRow("active parameters", Format.Number(model.ActiveParameters));
            }
            table.AddRow("vocabulary", model.VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture));
            table.AddRow("positions, norm", $"{model.PositionEmbedding}, {model.Normalization}");
            foreach (var source in model.Sources)
            {
                table.AddRow("source", Markup.Escape($"{source.Title} {source.Url}"));
            }

            console.Write(table);
            return true;
        }

        return FrameworkCatalogReport.WriteEntry(console, catalog, id);
    }

    private static Table FigureTable(string title)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        table.AddColumns("figure", "value", "status", "source");
        return table;
    }

    private static void AddOptional<T>(Table table, HardwareCatalog catalog, string name, Figure<T>? figure)
        where T : struct
    {
        if (figure is not null)
        {
            AddFigure(table, catalog, name, figure, figure.Value is IFormattable formattable ? formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture) : figure.Value.ToString() ?? string.Empty);
        }
    }

    /// <summary>A figure with its range, where it has one ("115 W (100 W - 145 W)").</summary>
    private static void AddRanged<T>(Table table, HardwareCatalog catalog, string name, Figure<T> figure)
        where T : struct =>
        AddFigure(table, catalog, name, figure, figure.Range is { } range ? $"{figure.Value} ({range.Low} - {range.High})" : figure.Value.ToString() ?? string.Empty);

    private static void AddFigure<T>(Table table, HardwareCatalog catalog, string name, Figure<T> figure, string value)
    {
        var citation = catalog.Sources.TryGetValue(figure.Source, out var source) ? $"{figure.Source}: {source.Title}" : figure.Source;
        var detail = figure.Derivation ?? figure.Note;
        table.AddRow(Markup.Escape(name), Markup.Escape(value), figure.Status.ToString().ToLowerInvariant(),
            Markup.Escape(citation + (detail is null ? string.Empty : $" ({detail})")));
    }

    /// <summary>
    /// The chip's FP8 peak, marked where it is no faster than BF16's: such a chip takes FP8 (for its memory) but gains no
    /// speed from it (TPU v5p and v6e, Trainium1), which the bare figure would let one read as FP8 support.
    /// </summary>
    private static string Fp8Peak(Hardware.Chip chip) => chip.PeakRate(Precision.Fp8) is not { } fp8 ? "-"
        : chip.PeakRate(Precision.Bf16) is { } bf16 && fp8 <= bf16 ? $"{fp8} (no faster than BF16)"
        : fp8.ToString();
}
