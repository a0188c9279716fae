using ClusterTwin.Catalog;

namespace ClusterTwin.Benchmarks;

/// <summary>The repository's catalogue and its shipped examples, as the benchmarks load them.</summary>
internal static class Examples
{
    /// <summary>The catalogue beside the benchmarks.</summary>
    public static HardwareCatalog Catalog() => CatalogLoader.Load(CatalogLoader.Locate(null));

    /// <summary>The path of <c>examples/<paramref name="file"/></c> in the repository of <paramref name="catalog"/>.</summary>
    public static string Path(HardwareCatalog catalog, string file) => System.IO.Path.Combine(System.IO.Path.GetDirectoryName(catalog.Directory)!, "examples", file);
}
