using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>Options every command that reads the catalogue shares.</summary>
public class CatalogSettings : CommandSettings
{
    /// <summary>The catalogue folder; by default the <c>catalog/</c> found above the working folder or the program.</summary>
    [CommandOption("--catalog <DIR>")]
    [Description("Catalogue folder (default: the catalog/ of this repository).")]
    public string? Catalog { get; init; }

    /// <summary>Refuses an option given without its value; a command's own checks call this first.</summary>
    public override ValidationResult Validate() =>
        OptionValueCheck.MissingValue(this) is { } missing ? ValidationResult.Error(missing) : ValidationResult.Success();

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
    /// <see cref="ValidationCase.NotFrameworkFitted"/>), and the levels of a chip family the published set has no run
    /// of (every other supplementary case says <see cref="ValidationCase.NotFitted"/>); <c>validate --cases</c> reports them.
    /// </summary>
    public static IReadOnlyList<string> SupplementaryCasesFolders(HardwareCatalog catalog)
    {
        var root = Path.Combine(RepositoryFolder(catalog), "validation", "supplementary");
        return Directory.Exists(root) ? [.. Directory.GetDirectories(root).Order(StringComparer.Ordinal)] : [];
    }

    /// <summary>
    /// The cases calibration reads, chip families' levels and training frameworks' constants alike: the repository's
    /// published cases beside the catalogue (an error where there are none) and its supplementary cases, where there
    /// are some; a case keeps itself out of a fit with not_fitted or not_framework_fitted.
    /// </summary>
    public static ValidationSet CalibrationCases(HardwareCatalog catalog) =>
        LoadCases([DefaultCasesFolder(catalog), .. SupplementaryCasesFolders(catalog)], catalog);

    /// <summary>The cases of <paramref name="folders"/> (the repository's when none is named), or throws <see cref="InputException"/>.</summary>
    public static ValidationSet LoadCases(IReadOnlyList<string> folders, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(folders);
        var named = folders.Count > 0 ? folders : [DefaultCasesFolder(catalog)];
        foreach (var folder in named)
        {
            if (File.Exists(folder))
            {
                var parent = Path.GetDirectoryName(folder) is { Length: > 0 } holder ? holder.Replace('\\', '/') : ".";
                throw new InputException(folder, $"--cases takes a folder of case files, not a file: name the folder that holds the case files, such as --cases {parent}");
            }

            if (!Directory.Exists(folder))
            {
                throw new InputException(folder, "validation case folder not found (--cases takes a folder of case files, such as validation/cases)");
            }

            if (Directory.GetFiles(folder, "*.yaml").Length == 0)
            {
                throw new InputException(folder, "the folder holds no validation case files (*.yaml): a case file is a scenario with the figure a source measured for it, as validation/README.md describes");
            }
        }

        DuplicateCases(named);
        return ValidationSet.Concat(named.Select(folder => ValidationCaseLoader.LoadAll(folder, catalog)));
    }

    /// <summary>
    /// Throws <see cref="InputException"/> where two of <paramref name="folders"/> hold a case of the same id (a case's id
    /// is its file name), or one folder is named twice: each case would be counted twice in every mean.
    /// </summary>
    private static void DuplicateCases(IReadOnlyList<string> folders)
    {
        var full = folders.Select(folder => Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))).ToArray();
        for (var index = 0; index < folders.Count; index++)
        {
            if (Array.IndexOf(full, full[index]) < index)
            {
                throw new InputException(folders[index], "--cases names this folder twice: each of its cases would be counted twice (name it once)");
            }
        }

        var first = new Dictionary<string, string>(StringComparer.Ordinal);
        var problems = new List<Diagnostic>();
        foreach (var file in folders.SelectMany(folder => Directory.GetFiles(folder, "*.yaml").Order(StringComparer.Ordinal)))
        {
            var id = Path.GetFileNameWithoutExtension(file);
            if (!first.TryAdd(id, file))
            {
                problems.Add(new Diagnostic(file, IdLine(file), "id", $"'{id}' is also the case {first[id]}: a case is counted once (rename one, or leave one folder out)"));
            }
        }

        if (problems.Count > 0)
        {
            throw new InputException(problems);
        }
    }

    /// <summary>
    /// The line of a case file's <c>id:</c>, counted from 1; 0 (the whole file) where its first 64 KiB have none at the
    /// start of a line. A case file names its id within its first lines; a device or an endless file is read no further.
    /// </summary>
    private static int IdLine(string file)
    {
        var head = new char[64 * 1024];
        int read;
        try
        {
            using var reader = new StreamReader(file);
            read = reader.ReadBlock(head, 0, head.Length);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        var lines = new string(head, 0, read).Split('\n');
        var index = Array.FindIndex(lines, line => line.StartsWith("id:", StringComparison.Ordinal));
        return index + 1;
    }

    /// <summary>
    /// Throws <see cref="InputException"/> before any work where <paramref name="path"/>, given to
    /// <paramref name="option"/> for <paramref name="what"/>, is not a file that can be written: empty, a folder, or in
    /// a folder that does not exist.
    /// </summary>
    public static void CheckOutputFile(string path, string option, string what, string example)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InputException(option, $"expected a file name for {what}, such as {example}");
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (Directory.Exists(path))
        {
            throw new InputException(path, $"cannot write {what}: it is a folder (expected a file name, such as {example})");
        }

        if (folder is not null && !Directory.Exists(folder))
        {
            throw new InputException(path, $"cannot write {what}: the folder {folder} does not exist");
        }
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
            throw new InputException(path, $"cannot write {what}: {Reason(error, path)}");
        }
    }

    /// <summary>Why a file could not be written, in words rather than the runtime's message where it is a known case.</summary>
    private static string Reason(Exception error, string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        return error switch
        {
            UnauthorizedAccessException => $"permission denied (choose a file in a folder you can write to)",
            DirectoryNotFoundException => $"the folder {folder} does not exist",
            FileNotFoundException => $"the folder {folder} does not accept new files (choose a file in a folder you can write to)",
            PathTooLongException => "the path is too long",
            ArgumentException or NotSupportedException => "not a valid file name",
            _ => error.Message,
        };
    }
}
