using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Reliability;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads <c>catalog/reliability/</c>: one file whose <c>interruptions</c> list gives each chip family's chip-time
/// between job interruptions (and the <c>default</c> family's), and whose <c>recovery</c> block gives the restart and
/// checkpoint figures.
/// </summary>
internal static class ReliabilityReader
{
    /// <summary>The optional folder.</summary>
    public const string Folder = "reliability";

    public static ReliabilityCatalog? Read(YamlReader reader, ISet<string> sources, ISet<string> families)
    {
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "interruptions", "recovery", "note");
        var rates = ImmutableSortedDictionary.CreateBuilder<string, Figure<Duration>>(StringComparer.Ordinal);
        if (YamlReader.Child(root, "interruptions") is not YamlSequenceNode list)
        {
            reader.Error(YamlReader.Child(root, "interruptions") ?? root, "interruptions", "missing or not a list (expected entries {family: ..., chip_time_between_interruptions: {value: ..., source: ...}})");
        }
        else
        {
            foreach (var item in list)
            {
                if (item is not YamlMappingNode entry)
                {
                    reader.Error(item, "interruptions", "expected an entry {family: ..., chip_time_between_interruptions: {value: ..., source: ...}}");
                    continue;
                }

                var family = reader.String(entry, "family", "interruptions[]");
                var field = $"interruptions[{family}]";
                reader.CheckKeys(entry, field, "family", "chip_time_between_interruptions", "note");
                var figure = reader.Figure(entry, "chip_time_between_interruptions", field, reader.QuantityValue<Duration>(PlausibleRange.ChipTimeBetweenInterruptions), sources, required: true);
                if (family is null || figure is null)
                {
                    continue;
                }

                if (family != ReliabilityCatalog.DefaultFamily && !families.Contains(family))
                {
                    reader.Error(YamlReader.Child(entry, "family"), YamlReader.Join(field, "family"),
                        $"'{family}' is no chip's family (expected '{ReliabilityCatalog.DefaultFamily}' or one of: {string.Join(", ", families.Order(StringComparer.Ordinal))})");
                }
                else if (figure.Value.Seconds <= 0 || figure.Lowest.Seconds <= 0)
                {
                    reader.Error(YamlReader.Child(entry, "chip_time_between_interruptions"), YamlReader.Join(field, "chip_time_between_interruptions"), "must be above zero, its range too");
                }
                else if (!rates.TryAdd(family, figure))
                {
                    reader.Error(entry, field, "family listed twice (expected one entry per family)");
                }
            }

            if (!rates.ContainsKey(ReliabilityCatalog.DefaultFamily))
            {
                reader.Error(list, "interruptions", $"no '{ReliabilityCatalog.DefaultFamily}' entry (the figure for families without their own)");
            }
        }

        var recovery = reader.Mapping(root, "recovery", string.Empty, required: true);
        reader.CheckKeys(recovery ?? new YamlMappingNode(), "recovery", "restart", "checkpoint_copy_per_chip", "checkpoint_save_per_chip", "replacement_share", "note");
        var restart = reader.Figure(recovery, "restart", "recovery", reader.QuantityValue<Duration>(PlausibleRange.Recovery), sources, required: true);
        var copy = Rate(reader, recovery, "checkpoint_copy_per_chip", sources);
        var save = Rate(reader, recovery, "checkpoint_save_per_chip", sources);
        var share = reader.Figure(recovery, "replacement_share", "recovery", reader.FractionValue(), sources, required: false);
        return reader.Diagnostics.Count > 0 || restart is null || copy is null || save is null
            ? null
            : new ReliabilityCatalog { ChipTimeBetweenInterruptions = rates.ToImmutable(), Restart = restart, CheckpointCopyPerChip = copy, CheckpointSavePerChip = save, ReplacementShare = share };
    }

    /// <summary>A checkpoint rate, which must be above zero at every value it may take (a time is divided by it).</summary>
    private static Figure<Bandwidth>? Rate(YamlReader reader, YamlMappingNode? recovery, string key, ISet<string> sources)
    {
        var rate = reader.Figure(recovery, key, "recovery", reader.QuantityValue<Bandwidth>(), sources, required: true);
        if (rate is not null && rate.Lowest.BytesPerSecond <= 0)
        {
            reader.Error(YamlReader.Child(recovery, key), YamlReader.Join("recovery", key), "must be above zero, its range too");
            return null;
        }

        return rate;
    }
}
