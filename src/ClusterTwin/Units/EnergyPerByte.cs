namespace ClusterTwin.Units;

/// <summary>An energy spent per byte moved, in joules. Per-bit figures (pJ/bit) are accepted and converted.</summary>
public readonly record struct EnergyPerByte(double JoulesPerByte) : IQuantity<EnergyPerByte>
{
    /// <summary>Zero.</summary>
    public static EnergyPerByte Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("energy per byte", UnitTable.SmallPrefixes("J/B").Concat(UnitTable.SmallPrefixes("J/bit", 8)), ["nJ/B", "pJ/B"], "pJ/B, pJ/bit");

    /// <inheritdoc />
    public double BaseValue => JoulesPerByte;

    /// <summary>Creates the quantity from J/B.</summary>
    public static EnergyPerByte FromJoulesPerByte(double value) => new(value);

    /// <inheritdoc />
    public static EnergyPerByte FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "40 pJ/B".</summary>
    public static EnergyPerByte Parse(string text) => Quantity.Parse<EnergyPerByte>(text);

    /// <summary>The sum of two amounts.</summary>
    public static EnergyPerByte operator +(EnergyPerByte left, EnergyPerByte right) => new(left.JoulesPerByte + right.JoulesPerByte);

    /// <summary>The difference of two amounts.</summary>
    public static EnergyPerByte operator -(EnergyPerByte left, EnergyPerByte right) => new(left.JoulesPerByte - right.JoulesPerByte);

    /// <summary>The amount scaled by a factor.</summary>
    public static EnergyPerByte operator *(EnergyPerByte value, double factor) => new(value.JoulesPerByte * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static EnergyPerByte operator *(double factor, EnergyPerByte value) => new(value.JoulesPerByte * factor);

    /// <summary>The amount divided by a number.</summary>
    public static EnergyPerByte operator /(EnergyPerByte value, double divisor) => new(value.JoulesPerByte / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte / right.JoulesPerByte;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte < right.JoulesPerByte;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte > right.JoulesPerByte;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte <= right.JoulesPerByte;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte >= right.JoulesPerByte;

    /// <summary>The larger of two amounts.</summary>
    public static EnergyPerByte Max(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte >= right.JoulesPerByte ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static EnergyPerByte Min(EnergyPerByte left, EnergyPerByte right) => left.JoulesPerByte <= right.JoulesPerByte ? left : right;

    /// <inheritdoc />
    public int CompareTo(EnergyPerByte other) => JoulesPerByte.CompareTo(other.JoulesPerByte);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
