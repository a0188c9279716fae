namespace ClusterTwin.Units;

/// <summary>An energy in joules.</summary>
public readonly record struct Energy(double Joules) : IQuantity<Energy>
{
    /// <summary>Zero.</summary>
    public static Energy Zero => default;

    /// <summary>
    /// Accepts joules and watt-hours with their prefixes; prints watt-hours from 1 Wh up and joules below, never kJ,
    /// so that the parts of one figure ("8.6 Wh (5.9 Wh - 12.9 Wh)") are never written in two families of units.
    /// </summary>
    public static UnitTable Units { get; } = new("energy", UnitTable.DecimalPrefixes("J").Concat(UnitTable.DecimalPrefixes("Wh", 3600)), ["GWh", "MWh", "kWh", "Wh", "J"], "J, kWh, MWh");

    /// <inheritdoc />
    public double BaseValue => Joules;

    /// <summary>Creates the quantity from J.</summary>
    public static Energy FromJoules(double value) => new(value);

    /// <inheritdoc />
    public static Energy FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 J".</summary>
    public static Energy Parse(string text) => Quantity.Parse<Energy>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Energy operator +(Energy left, Energy right) => new(left.Joules + right.Joules);

    /// <summary>The difference of two amounts.</summary>
    public static Energy operator -(Energy left, Energy right) => new(left.Joules - right.Joules);

    /// <summary>The amount scaled by a factor.</summary>
    public static Energy operator *(Energy value, double factor) => new(value.Joules * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Energy operator *(double factor, Energy value) => new(value.Joules * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Energy operator /(Energy value, double divisor) => new(value.Joules / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Energy left, Energy right) => left.Joules / right.Joules;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Energy left, Energy right) => left.Joules < right.Joules;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Energy left, Energy right) => left.Joules > right.Joules;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Energy left, Energy right) => left.Joules <= right.Joules;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(Energy left, Energy right) => left.Joules >= right.Joules;

    /// <summary>The larger of two amounts.</summary>
    public static Energy Max(Energy left, Energy right) => left.Joules >= right.Joules ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Energy Min(Energy left, Energy right) => left.Joules <= right.Joules ? left : right;

    /// <inheritdoc />
    public int CompareTo(Energy other) => Joules.CompareTo(other.Joules);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
