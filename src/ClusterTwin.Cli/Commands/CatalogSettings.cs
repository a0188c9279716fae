using System.ComponentModel;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>Options every command that reads the catalogue shares.</summary>
public class CatalogSettings : CommandSettings
{
    /// <summary>The catalogue folder; by default the <c>catalog/</c> found above the working folder or the program.</summary>
    [CommandOption("--catalog <DIR>")]
    [Description("Catalogue folder (default: the catalog/ of this repository).")]
    public string? Catalog { get; init; }
}
