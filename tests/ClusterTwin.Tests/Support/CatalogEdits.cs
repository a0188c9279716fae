using ClusterTwin.Catalog;

namespace ClusterTwin.Tests.Support;

/// <summary>Catalogue errors on purpose: a copy of the catalogue with one file changed, loaded.</summary>
internal static class CatalogEdits
{
    /// <summary>
    /// Loads a copy of the catalogue with <paramref name="from"/> (which must be there) replaced by <paramref name="to"/>
    /// in <paramref name="file"/>, and returns the error it gives.
    /// </summary>
    public static InputException LoadWithChange(string file, string from, string to)
    {
        using var folder = TemporaryFolder.WithCatalogCopy();
        var path = Path.Combine(folder.Path, file);
        var text = File.ReadAllText(path);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(path, text.Replace(from, to, StringComparison.Ordinal));
        return Assert.Throws<InputException>(() => CatalogLoader.Load(folder.Path));
    }
}
