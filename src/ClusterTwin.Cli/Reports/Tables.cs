using System.Text;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>One set of headers and rows of plain text, shown as a console table or written as a markdown table.</summary>
public static class Tables
{
    /// <summary>A rounded console table titled <paramref name="title"/>; every cell is escaped.</summary>
    public static Table Console(string title, IReadOnlyList<string> headers, IEnumerable<string[]> rows)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(title));
        foreach (var header in headers)
        {
            table.AddColumn(Markup.Escape(header));
        }

        foreach (var row in rows)
        {
            table.AddRow(row.Select(Markup.Escape).ToArray());
        }

        return table;
    }

    /// <summary>Appends a markdown table: the header row, the separator and one line per row.</summary>
    public static void AppendMarkdown(StringBuilder text, IReadOnlyList<string> headers, IEnumerable<string[]> rows)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(rows);
        text.AppendLine("| " + string.Join(" | ", headers) + " |");
        text.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", headers.Count)));
        foreach (var row in rows)
        {
            text.AppendLine("| " + string.Join(" | ", row) + " |");
        }
    }
}
