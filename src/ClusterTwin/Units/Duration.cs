namespace ClusterTwin.Units;

/// <summary>A length of time in seconds (not a point in time).</summary>
public readonly record struct Duration(double Seconds) : IQuantity<Duration>
{
    /// <summary>Zero.</summary>
    public static Duration Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("duration", [("ps", 1e-12), ("ns", 1e-9), ("us", 1e-6), ("\u00b5s", 1e-6), ("ms", 1e-3), ("s", 1), ("min", 60), ("h", 3600), ("d", 86400)], ["d", "h", "min", "s", "ms", "us", "ns", "ps"], "d, h, min, s, ms, us, ns");

    /// <inheritdoc />
    public double BaseValue => Seconds;

    /// <summary>Creates the quantity from s.</summary>
    public static Duration FromSeconds(double value) => new(value);

    /// <inheritdoc />
    public static Duration FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 s".</summary>
    public static Duration Parse(string text) => Quantity.Parse<Duration>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Duration operator +(Duration left, Duration right) => new(left.Seconds + right.Seconds);

    /// <summary>The difference of two amounts.</summary>
    public static Duration operator -(Duration left, Duration right) => new(left.Seconds - right.Seconds);

    /// <summary>The amount scaled by a factor.</summary>
    public static Duration operator *(Duration value, double factor) => new(value.Seconds * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Duration operator *(double factor, Duration value) => new(value.Seconds * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Duration operator /(Duration value, double divisor) => new(value.Seconds / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Duration left, Duration right) => left.Seconds / right.Seconds;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Duration left, Duration right) => left.Seconds < right.Seconds;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Duration left, Duration right) => left.Seconds > right.Seconds;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Duration left, Duration right) => left.Seconds <= right.Seconds;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(Duration left, Duration right) => left.Seconds >= right.Seconds;

    /// <summary>The larger of two amounts.</summary>
    public static Duration Max(Duration left, Duration right) => left.Seconds >= right.Seconds ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Duration Min(Duration left, Duration right) => left.Seconds <= right.Seconds ? left : right;

    /// <inheritdoc />
    public int CompareTo(Duration other) => Seconds.CompareTo(other.Seconds);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
