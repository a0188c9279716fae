namespace ClusterTwin.Units;

/// <summary>A price per unit of time, in US dollars per second; written per hour.</summary>
public readonly record struct MoneyRate(double DollarsPerSecond) : IQuantity<MoneyRate>
{
    /// <summary>Zero.</summary>
    public static MoneyRate Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("price per hour", [("USD/h", 1 / 3600.0), ("$/h", 1 / 3600.0), ("USD/s", 1.0), ("USD/year", 1 / (365.25 * 86400))], ["USD/h"], "USD/h");

    /// <inheritdoc />
    public double BaseValue => DollarsPerSecond;

    /// <summary>Creates the quantity from USD/s.</summary>
    public static MoneyRate FromDollarsPerSecond(double value) => new(value);

    /// <inheritdoc />
    public static MoneyRate FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "2.5 USD/h".</summary>
    public static MoneyRate Parse(string text) => Quantity.Parse<MoneyRate>(text);

    /// <summary>The sum of two amounts.</summary>
    public static MoneyRate operator +(MoneyRate left, MoneyRate right) => new(left.DollarsPerSecond + right.DollarsPerSecond);

    /// <summary>The difference of two amounts.</summary>
    public static MoneyRate operator -(MoneyRate left, MoneyRate right) => new(left.DollarsPerSecond - right.DollarsPerSecond);

    /// <summary>The amount scaled by a factor.</summary>
    public static MoneyRate operator *(MoneyRate value, double factor) => new(value.DollarsPerSecond * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static MoneyRate operator *(double factor, MoneyRate value) => new(value.DollarsPerSecond * factor);

    /// <summary>The amount divided by a number.</summary>
    public static MoneyRate operator /(MoneyRate value, double divisor) => new(value.DollarsPerSecond / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(MoneyRate left, MoneyRate right) => left.DollarsPerSecond / right.DollarsPerSecond;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(MoneyRate left, MoneyRate right) => left.DollarsPerSecond < right.DollarsPerSecond;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(MoneyRate left, MoneyRate right) => left.DollarsPerSecond > right.DollarsPerSecond;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(MoneyRate left, MoneyRate right) => left.DollarsPerSecond <= right.DollarsPerSecond;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(MoneyRate left, MoneyRate right) => left.DollarsPerSecond >= right.DollarsPerSecond;

    /// <summary>The larger of two amounts.</summary>
    public static MoneyRate Max(MoneyRate left, MoneyRate right) => left.DollarsPerSecond >= right.DollarsPerSecond ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static MoneyRate Min(MoneyRate left, MoneyRate right) => left.DollarsPerSecond <= right.DollarsPerSecond ? left : right;

    /// <inheritdoc />
    public int CompareTo(MoneyRate other) => DollarsPerSecond.CompareTo(other.DollarsPerSecond);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
