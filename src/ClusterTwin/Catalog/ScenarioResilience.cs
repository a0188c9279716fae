using ClusterTwin.Hardware;
using ClusterTwin.Reliability;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads a scenario's <c>resilience</c> block: the catalogue's interruption, restart and checkpoint figures for the
/// cluster's chip family, each replaced where the block names its own, and the time between checkpoints (Daly's
/// optimum unless named).
/// </summary>
internal static class ScenarioResilience
{
    private const string Why = "the scenario's resilience block";

    /// <summary>The most runs a scenario may ask the event-level simulation for: each keeps its wall time, sorted for the percentiles (a million, 8 MB).</summary>
    private const int MostSimulatedRuns = 1_000_000;

    internal static ResilienceSettings? Read(YamlReader reader, YamlMappingNode root, string path, Cluster? cluster, TrainingJob? job, ReliabilityCatalog? catalog)
    {
        var field = YamlReader.Join(path, "resilience");
        var map = reader.Mapping(root, "resilience", path, required: false);
        reader.CheckKeys(map ?? new YamlMappingNode(), field, "chip_time_between_interruptions", "restart", "checkpoint_copy_per_chip", "checkpoint_save_per_chip", "storage_write_bandwidth", "checkpoint_interval", "simulated_runs", "seed", "spare_servers", "server_repair_time", "replacement_share", "note");
        if (map is not null && job is { TokensToTrain: null })
        {
            reader.Error(map, field, "applies to the whole run, which needs its length: add training.tokens (such as tokens: 15T), or remove the block");
        }

        // A restart may take no time; the run's interruptions and checkpoints may not.
        var chipTime = Positive(reader, map, "chip_time_between_interruptions", field, PlausibleRange.ChipTimeBetweenInterruptions);
        var restart = reader.Quantity<Duration>(map, "restart", field, required: false, range: PlausibleRange.Recovery);
        var copy = reader.Quantity<Bandwidth>(map, "checkpoint_copy_per_chip", field, required: false, range: PlausibleRange.Bandwidth);
        var save = reader.Quantity<Bandwidth>(map, "checkpoint_save_per_chip", field, required: false, range: PlausibleRange.Bandwidth);
        var storage = reader.Quantity<Bandwidth>(map, "storage_write_bandwidth", field, required: false, range: PlausibleRange.Bandwidth);
        var interval = Positive(reader, map, "checkpoint_interval", field, PlausibleRange.Recovery);
        var runs = reader.Integer(map, "simulated_runs", field, 0, MostSimulatedRuns, required: false) ?? SimulatedRuns.DefaultRuns;
        var seed = reader.Integer(map, "seed", field, 0, int.MaxValue, required: false) ?? 1;
        var spareCount = reader.Integer(map, "spare_servers", field, 0, int.MaxValue, required: false);
        var repair = Positive(reader, map, "server_repair_time", field, PlausibleRange.Repair);
        var share = YamlReader.Child(map, "replacement_share") is { } shareNode ? reader.FractionValue(0)(shareNode, YamlReader.Join(field, "replacement_share")) : null;
        var (namesSpares, namesRepair) = (YamlReader.Child(map, "spare_servers") is not null, YamlReader.Child(map, "server_repair_time") is not null);
        if (map is not null && namesSpares != namesRepair)
        {
            reader.Error(map, field, "spare_servers and server_repair_time go together: name both (such as spare_servers: 64 and server_repair_time: 2 d), or neither for a spare always at hand");
        }

        if (map is not null && share is not null && !namesSpares)
        {
            reader.Error(YamlReader.Child(map, "replacement_share")!, YamlReader.Join(field, "replacement_share"), "applies to spare servers: name spare_servers and server_repair_time too, or remove it");
        }

        // The catalogue's figures for the chip's family, each replaced where the block names its own. A catalogue without
        // reliability figures (a test's) leaves interruptions out unless the block gives them all.
        var defaults = catalog is not null && cluster is not null ? catalog.SettingsFor(cluster.Chip.Family) : null;
        if (catalog is null && map is not null && (chipTime is null || restart is null || copy is null || save is null))
        {
            reader.Error(map, field, "the catalogue has no reliability figures (catalog/reliability/) to complete it: name chip_time_between_interruptions, restart, checkpoint_copy_per_chip and checkpoint_save_per_chip");
        }

        return (Own(chipTime) ?? defaults?.ChipTimeBetweenInterruptions) is { } rate
            && (Own(restart) ?? defaults?.Restart) is { } back
            && (Own(copy) ?? defaults?.CheckpointCopyPerChip) is { } copied
            && (Own(save) ?? defaults?.CheckpointSavePerChip) is { } saved
            ? new ResilienceSettings
            {
                ChipTimeBetweenInterruptions = rate,
                Restart = back,
                CheckpointCopyPerChip = copied,
                CheckpointSavePerChip = saved,
                CheckpointInterval = interval,
                StorageWriteBandwidth = storage,
                SimulatedRuns = runs,
                Seed = seed,
                Spares = Spares(reader, map, field, spareCount, repair, Own(share) ?? catalog?.ReplacementShare),
            }
            : null;
    }

    /// <summary>The spare servers the block names, with the share of interruptions that take a server out, which the catalogue or the block must give.</summary>
    private static SpareServers? Spares(YamlReader reader, YamlMappingNode? map, string field, int? count, Duration? repair, Figure<double>? share)
    {
        if (count is not { } spares || repair is not { } time)
        {
            return null;
        }

        if (share is null)
        {
            reader.Error(map!, field, "names spare servers, but the catalogue gives no share of interruptions that take a server out: add replacement_share (such as 0.78)");
            return null;
        }

        return new SpareServers(spares, time, share);
    }

    /// <summary>The block's own figure, marked as the scenario's assumption; null where it names none.</summary>
    private static Figure<T>? Own<T>(T? value)
        where T : struct => value is { } own ? Figure.Assumed(own, Why) : null;

    /// <summary>A duration that must be above zero (the reader lets durations be zero: a latency may be).</summary>
    private static Duration? Positive(YamlReader reader, YamlMappingNode? map, string key, string field, PlausibleRange range)
    {
        var value = reader.Quantity<Duration>(map, key, field, required: false, range: range);
        if (value is { Seconds: 0 })
        {
            reader.Error(YamlReader.Child(map, key), YamlReader.Join(field, key), $"is zero (expected {range.Description})");
            return null;
        }

        return value;
    }
}
