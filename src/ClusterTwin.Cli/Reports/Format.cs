using System.Globalization;

namespace ClusterTwin.Cli.Reports;

/// <summary>Number formats shared by the reports.</summary>
internal static class Format
{
    public static string Percent(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string Number(double value) => value switch
    {
        >= 1e15 => (value / 1e15).ToString("0.##", CultureInfo.InvariantCulture) + " quadrillion",
        >= 1e12 => (value / 1e12).ToString("0.##", CultureInfo.InvariantCulture) + "T",
        >= 1e9 => (value / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "B",
        >= 1e6 => (value / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M",
        >= 1e4 => (value / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k",
        // Below a hundredth, three significant figures, where two decimals would round a rate of one request an hour to
        // 0: as decimals down to a millionth, below it with an exponent as the input may write it (1.91e-9).
        > 0 and < 1e-6 => value.ToString("0.##e0", CultureInfo.InvariantCulture),
        > 0 and < 0.01 => Math.Round(value, 2 - (int)Math.Floor(Math.Log10(value))).ToString("0.#########", CultureInfo.InvariantCulture),
        _ => value.ToString("0.##", CultureInfo.InvariantCulture),
    };

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>
    /// What a chip family's efficiency levels rest on: its own measured runs, or the family whose runs they were
    /// carried over from. <paramref name="brief"/> for a table cell ("25 measured runs", "carried from X"), else a clause.
    /// </summary>
    public static string Calibration(Hardware.ChipEfficiency efficiency, bool brief) => efficiency switch
    {
        { CarriedOverFrom: not null, HasOwnFit: false } => brief ? $"carried from {efficiency.LevelsFrom}" : $"no measured runs of its own: the curves and levels of {efficiency.LevelsFrom}, carried over",
        { HasOwnFit: true, Fit.Cases: > 0 } => brief ? $"{efficiency.Fit.Cases} measured runs" : $"levels fitted to {efficiency.Fit.Cases} measured runs",
        _ => "levels as written",
    };

    /// <summary>A price's status after a figure that rests on it, where the price is not a published one (" estimate", " projection"); empty where it is.</summary>
    public static string UnpublishedPrice(Hardware.FigureStatus status) =>
        status is Hardware.FigureStatus.Official or Hardware.FigureStatus.Reported ? string.Empty : " " + status.ToString().ToLowerInvariant();
}
