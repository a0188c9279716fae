using System.ComponentModel;
using ClusterTwin.Catalog;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>Options every command that reads the catalogue shares.</summary>
public class CatalogSettings : CommandSettings
{
    /// <summary>The catalogue folder; by default the <c>catalog/</c> found above the working folder or the program.</summary>
    [CommandOption("--catalog <DIR>")]
    [Description("Catalogue folder (default: the catalog/ of this repository).")]
    public string? Catalog { get; init; }

    /// <summary>Loads the catalogue these settings name, or throws <see cref="InputException"/> with every problem.</summary>
    public HardwareCatalog LoadCatalog() => CatalogLoader.Load(CatalogLoader.Locate(Catalog));

    /// <summary>The repository's validation cases, beside the catalogue.</summary>
    public static string DefaultCasesFolder(HardwareCatalog catalog) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(catalog.Directory))!, "validation", "cases");
}
