using System.Globalization;

namespace ClusterTwin.Units;

/// <summary>
/// A run's length as reports write it: in days from two days up, in hours from two hours, in minutes from two minutes,
/// else in seconds ("26 days", "15.3 h", "42 min"), to three significant figures.
/// </summary>
public static class RunLength
{
    /// <summary><paramref name="time"/> in the unit its own size calls for.</summary>
    public static string Of(Duration time) => Of(time, time);

    /// <summary><paramref name="time"/> in the unit <see cref="Of(Duration)"/> gives <paramref name="like"/>: a range's ends in its centre's unit.</summary>
    public static string Of(Duration time, Duration like)
    {
        var (unit, name) = like.Seconds switch
        {
            >= 2 * 86400 => (86400.0, " days"),
            >= 2 * 3600 => (3600.0, " h"),
            >= 120 => (60.0, " min"),
            _ => (1.0, " s"),
        };
        return Significant(time.Seconds / unit) + name;
    }

    private static string Significant(double value) => value <= 0 || !double.IsFinite(value)
        ? "0"
        : Math.Round(value, Math.Clamp(2 - (int)Math.Floor(Math.Log10(value)), 0, 15)).ToString("0.###############", CultureInfo.InvariantCulture);
}
