using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Validation;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>Options every command that reads the catalogue shares.</summary>
public class CatalogSettings : CommandSettings
{
    /// <summary>The catalogue folder; by default the <c>catalog/</c> found above the working folder or the program.</summary>
    [CommandOption("--catalog <DIR>")]
    [Description("Catalogue folder (default: the catalog/ of this repository).")]
    public string? Catalog { get; init; }

    /// <summary>
    /// Loads the catalogue these settings name, or throws <see cref="InputException"/> with every problem; first checks
    /// the settings' own files (<see cref="CheckOutputs"/>), so a long run does not end on an output it cannot write.
    /// </summary>
    public HardwareCatalog LoadCatalog()
    {
        CheckOutputs();
        return CatalogLoader.Load(CatalogLoader.Locate(Catalog));
    }

    /// <summary>Throws <see cref="InputException"/> where a file the command will write cannot be written; nothing to check by default.</summary>
    protected virtual void CheckOutputs()
    {
    }

    /// <summary>The repository the catalogue sits in: the folder above it.</summary>
    public static string RepositoryFolder(HardwareCatalog catalog) =>
        Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(catalog.Directory)))!;

    /// <summary>The repository's validation cases, beside the catalogue.</summary>
    public static string DefaultCasesFolder(HardwareCatalog catalog) => Path.Combine(RepositoryFolder(catalog), "validation", "cases");

    /// <summary>
    /// The repository's supplementary validation cases (<c>validation/supplementary/*/</c>): measured runs beyond the
    /// published set, which training frameworks' constants are fitted on with it (but those a case keeps out,
    /// <see cref="ValidationCase.NotFrameworkFitted"/>) and <c>validate --cases</c> reports.
    /// </summary>
    public static IReadOnlyList<string> SupplementaryCasesFolders(HardwareCatalog catalog)
    {
        var root = Path.Combine(RepositoryFolder(catalog), "validation", "supplementary");
        return Directory.Exists(root) ? [.. Directory.GetDirectories(root).Order(StringComparer.Ordinal)] : [];
    }

    /// <summary>
    /// The cases training frameworks' constants are fitted on: the repository's published cases beside the catalogue
    /// (an error where there are none) and its supplementary cases, where there are some.
    /// </summary>
    public static ValidationSet CalibrationCases(HardwareCatalog catalog) =>
        LoadCases([DefaultCasesFolder(catalog), .. SupplementaryCasesFolders(catalog)], catalog);

    /// <summary>The cases of <paramref name="folders"/> (the repository's when none is named), or throws <see cref="InputException"/>.</summary>
    public static ValidationSet LoadCases(IReadOnlyList<string> folders, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(folders);
        var named = folders.Count > 0 ? folders : [DefaultCasesFolder(catalog)];
        var missing = named.FirstOrDefault(folder => !Directory.Exists(folder));
        if (missing is not null)
        {
            throw new InputException(missing, "validation case folder not found");
        }

        return ValidationSet.Concat(named.Select(folder => ValidationCaseLoader.LoadAll(folder, catalog)));
    }

    /// <summary>Writes a report file the user named, or throws <see cref="InputException"/> saying why it cannot be written.</summary>
    public static void WriteReport(string path, string text) => WriteFile(path, "the report", () => File.WriteAllText(path, text));

    /// <summary>Runs <paramref name="write"/>, which writes <paramref name="path"/>; an I/O failure becomes an <see cref="InputException"/> naming <paramref name="what"/>.</summary>
    public static void WriteFile(string path, string what, Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            write();
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
        {
            throw new InputException(path, $"cannot write {what}: {error.Message}");
        }
    }
}
