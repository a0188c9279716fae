namespace ClusterTwin.Units;

/// <summary>A price of energy, in US dollars per joule; written per kilowatt-hour.</summary>
public readonly record struct EnergyPrice(double DollarsPerJoule) : IQuantity<EnergyPrice>
{
    /// <summary>Zero.</summary>
    public static EnergyPrice Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("energy price", [("USD/kWh", 1 / 3.6e6), ("$/kWh", 1 / 3.6e6), ("USD/MWh", 1 / 3.6e9), ("USD/J", 1.0)], ["USD/kWh"], "USD/kWh, USD/MWh");

    /// <inheritdoc />
    public double BaseValue => DollarsPerJoule;

    /// <summary>Creates the quantity from USD/J.</summary>
    public static EnergyPrice FromDollarsPerJoule(double value) => new(value);

    /// <inheritdoc />
    public static EnergyPrice FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "0.08 USD/kWh".</summary>
    public static EnergyPrice Parse(string text) => Quantity.Parse<EnergyPrice>(text);

    /// <summary>The sum of two amounts.</summary>
    public static EnergyPrice operator +(EnergyPrice left, EnergyPrice right) => new(left.DollarsPerJoule + right.DollarsPerJoule);

    /// <summary>The difference of two amounts.</summary>
    public static EnergyPrice operator -(EnergyPrice left, EnergyPrice right) => new(left.DollarsPerJoule - right.DollarsPerJoule);

    /// <summary>The amount scaled by a factor.</summary>
    public static EnergyPrice operator *(EnergyPrice value, double factor) => new(value.DollarsPerJoule * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static EnergyPrice operator *(double factor, EnergyPrice value) => new(value.DollarsPerJoule * factor);

    /// <summary>The amount divided by a number.</summary>
    public static EnergyPrice operator /(EnergyPrice value, double divisor) => new(value.DollarsPerJoule / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule / right.DollarsPerJoule;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule < right.DollarsPerJoule;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule > right.DollarsPerJoule;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule <= right.DollarsPerJoule;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule >= right.DollarsPerJoule;

    /// <summary>The larger of two amounts.</summary>
    public static EnergyPrice Max(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule >= right.DollarsPerJoule ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static EnergyPrice Min(EnergyPrice left, EnergyPrice right) => left.DollarsPerJoule <= right.DollarsPerJoule ? left : right;

    /// <inheritdoc />
    public int CompareTo(EnergyPrice other) => DollarsPerJoule.CompareTo(other.DollarsPerJoule);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
