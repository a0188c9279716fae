namespace ClusterTwin.Units;

/// <summary>A power in watts.</summary>
public readonly record struct Power(double Watts) : IQuantity<Power>
{
    /// <summary>Zero.</summary>
    public static Power Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("power", UnitTable.DecimalPrefixes("W"), ["GW", "MW", "kW", "W"], "W, kW, MW");

    /// <inheritdoc />
    public double BaseValue => Watts;

    /// <summary>Creates the quantity from W.</summary>
    public static Power FromWatts(double value) => new(value);

    /// <inheritdoc />
    public static Power FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 W".</summary>
    public static Power Parse(string text) => Quantity.Parse<Power>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Power operator +(Power left, Power right) => new(left.Watts + right.Watts);

    /// <summary>The difference of two amounts.</summary>
    public static Power operator -(Power left, Power right) => new(left.Watts - right.Watts);

    /// <summary>The amount scaled by a factor.</summary>
    public static Power operator *(Power value, double factor) => new(value.Watts * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Power operator *(double factor, Power value) => new(value.Watts * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Power operator /(Power value, double divisor) => new(value.Watts / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Power left, Power right) => left.Watts / right.Watts;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Power left, Power right) => left.Watts < right.Watts;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Power left, Power right) => left.Watts > right.Watts;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Power left, Power right) => left.Watts <= right.Watts;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(Power left, Power right) => left.Watts >= right.Watts;

    /// <summary>The larger of two amounts.</summary>
    public static Power Max(Power left, Power right) => left.Watts >= right.Watts ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Power Min(Power left, Power right) => left.Watts <= right.Watts ? left : right;

    /// <inheritdoc />
    public int CompareTo(Power other) => Watts.CompareTo(other.Watts);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
