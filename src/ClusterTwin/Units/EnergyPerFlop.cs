namespace ClusterTwin.Units;

/// <summary>An energy spent per floating-point operation, in joules.</summary>
public readonly record struct EnergyPerFlop(double JoulesPerOperation) : IQuantity<EnergyPerFlop>
{
    /// <summary>Zero.</summary>
    public static EnergyPerFlop Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("energy per FLOP", UnitTable.SmallPrefixes("J/FLOP"), ["nJ/FLOP", "pJ/FLOP"], "pJ/FLOP");

    /// <inheritdoc />
    public double BaseValue => JoulesPerOperation;

    /// <summary>Creates the quantity from J/FLOP.</summary>
    public static EnergyPerFlop FromJoulesPerOperation(double value) => new(value);

    /// <inheritdoc />
    public static EnergyPerFlop FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 pJ/FLOP".</summary>
    public static EnergyPerFlop Parse(string text) => Quantity.Parse<EnergyPerFlop>(text);

    /// <summary>The sum of two amounts.</summary>
    public static EnergyPerFlop operator +(EnergyPerFlop left, EnergyPerFlop right) => new(left.JoulesPerOperation + right.JoulesPerOperation);

    /// <summary>The difference of two amounts.</summary>
    public static EnergyPerFlop operator -(EnergyPerFlop left, EnergyPerFlop right) => new(left.JoulesPerOperation - right.JoulesPerOperation);

    /// <summary>The amount scaled by a factor.</summary>
    public static EnergyPerFlop operator *(EnergyPerFlop value, double factor) => new(value.JoulesPerOperation * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static EnergyPerFlop operator *(double factor, EnergyPerFlop value) => new(value.JoulesPerOperation * factor);

    /// <summary>The amount divided by a number.</summary>
    public static EnergyPerFlop operator /(EnergyPerFlop value, double divisor) => new(value.JoulesPerOperation / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation / right.JoulesPerOperation;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation < right.JoulesPerOperation;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation > right.JoulesPerOperation;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation <= right.JoulesPerOperation;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation >= right.JoulesPerOperation;

    /// <summary>The larger of two amounts.</summary>
    public static EnergyPerFlop Max(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation >= right.JoulesPerOperation ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static EnergyPerFlop Min(EnergyPerFlop left, EnergyPerFlop right) => left.JoulesPerOperation <= right.JoulesPerOperation ? left : right;

    /// <inheritdoc />
    public int CompareTo(EnergyPerFlop other) => JoulesPerOperation.CompareTo(other.JoulesPerOperation);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
