namespace ClusterTwin.Cli;

/// <summary>
/// How wide the reports are drawn. A terminal's own width where there is one, as Spectre.Console reads it; the
/// <c>COLUMNS</c> environment variable where it is set, as most command-line tools read it; and, where the output goes to
/// a file or a pipe with neither, wider than the 80 columns Spectre.Console assumes there, so that a layout table of a
/// dozen columns keeps each number on one line instead of breaking "35.63 s" across two.
/// </summary>
public static class OutputWidth
{
    /// <summary>The width of output sent to a file or a pipe when <c>COLUMNS</c> does not say.</summary>
    public const int Redirected = 160;

    /// <summary>The narrowest and widest <c>COLUMNS</c> honoured; outside them the value is ignored, as a mistake.</summary>
    public const int Narrowest = 40;

    /// <inheritdoc cref="Narrowest"/>
    public const int Widest = 1000;

    /// <summary>Sets <paramref name="console"/>'s width by <see cref="Of"/>, where that gives one, and returns the console.</summary>
    public static Spectre.Console.IAnsiConsole Apply(Spectre.Console.IAnsiConsole console, string? columns, bool redirected)
    {
        ArgumentNullException.ThrowIfNull(console);
        if (Of(columns, redirected) is { } width)
        {
            console.Profile.Width = width;
        }

        return console;
    }

    /// <summary>
    /// The width to draw at, given the <c>COLUMNS</c> variable's text (null where unset) and whether the output is
    /// redirected; null to keep the console's own.
    /// </summary>
    public static int? Of(string? columns, bool redirected) =>
        int.TryParse(columns, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var width) && width is >= Narrowest and <= Widest
            ? width
            : redirected ? Redirected : null;
}
