using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>Options of the commands whose result can be printed as JSON instead of tables.</summary>
public class JsonSettings : CatalogSettings
{
    /// <summary>Print JSON.</summary>
    [CommandOption("--json")]
    [Description("Print the result as JSON (fields documented in docs/json-output.md).")]
    public bool Json { get; init; }

    /// <summary>
    /// Prints the JSON document, or the console report once the document's numbers are known to be finite (an input
    /// far out of proportion is reported, not printed as "Infinity days").
    /// </summary>
    public void EmitJsonOrTables(IAnsiConsole console, Func<object> document, Action<IAnsiConsole> write)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(write);
        if (Json)
        {
            console.Profile.Out.Writer.WriteLine(Reports.Json.Serialize(document()));
        }
        else
        {
            Reports.Json.CheckFinite(document());
            write(console);
        }
    }
}

/// <summary>Options of the commands whose report can also be written as a markdown page, or printed as JSON.</summary>
public class ReportSettings : JsonSettings
{
    /// <summary>Write the markdown page.</summary>
    [CommandOption("--markdown <FILE>")]
    [Description("Also write the report as a markdown page (the generated pages under docs/ are made this way).")]
    public string? Markdown { get; init; }

    /// <inheritdoc />
    protected override void CheckOutputs()
    {
        if (Markdown is null)
        {
            return;
        }

        CheckOutputFile(Markdown, "--markdown", "the report", "docs/report.md");
    }

    /// <summary>
    /// Writes the markdown page where asked, then prints the JSON document or the console report: the three forms of one
    /// report, each built only when it is shown.
    /// </summary>
    public void Emit(IAnsiConsole console, Func<string> markdown, Func<object> document, Action<IAnsiConsole> write)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(markdown);
        ArgumentNullException.ThrowIfNull(document);
        ArgumentNullException.ThrowIfNull(write);
        if (Markdown is not null)
        {
            WriteReport(Markdown, markdown());
        }

        EmitJsonOrTables(console, document, write);
    }
}

/// <summary>Options of the commands that read validation cases.</summary>
public class CasesSettings : ReportSettings
{
    /// <summary>Folders of case files.</summary>
    [CommandOption("--cases <DIR>")]
    [Description("Folder of validation case files, *.yaml, each a scenario with what a source measured (validation/README.md); a folder, not a single file. Default: validation/cases beside the catalogue. Repeatable.")]
    public string[] Cases { get; init; } = [];
}
