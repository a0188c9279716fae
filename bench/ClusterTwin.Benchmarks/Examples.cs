using ClusterTwin.Catalog;

namespace ClusterTwin.Benchmarks;

/// <summary>The repository's catalogue and its shipped examples, as the benchmarks load them.</summary>
internal static class Examples
{
    /// <summary>The catalogue beside the benchmarks.</summary>
    public static HardwareCatalog Catalog() => CatalogLoader.Load(CatalogLoader.Locate(null));

    /// <summary>
    /// <paramref name="scenario"/>, a data-parallel run on 144-chip Trn3 UltraServers, grown or shrunk to about
    /// <paramref name="chips"/> chips: whole systems, one data-parallel replica and 18 sequences a step each.
    /// </summary>
    public static ClusterTwin.Scenarios.Scenario AtChips(ClusterTwin.Scenarios.Scenario scenario, int chips)
    {
        var systems = Math.Max(1, (int)Math.Round(chips / 144.0));
        return scenario with
        {
            Cluster = scenario.Cluster with { SystemCount = systems },
            Plan = scenario.Plan with { DataParallelism = systems },
            Job = scenario.Job with { GlobalBatchSize = systems * 18 },
        };
    }

    /// <summary>The path of <c>examples/<paramref name="file"/></c> in the repository of <paramref name="catalog"/>.</summary>
    public static string Path(HardwareCatalog catalog, string file) => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(catalog.Directory)!, "examples", file);
}
