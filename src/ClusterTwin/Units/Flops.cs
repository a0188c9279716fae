namespace ClusterTwin.Units;

/// <summary>A count of floating-point operations.</summary>
public readonly record struct Flops(double Operations) : IQuantity<Flops>
{
    /// <summary>Zero.</summary>
    public static Flops Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("floating-point operation count", UnitTable.DecimalPrefixes("FLOP"), ["PFLOP", "TFLOP", "GFLOP", "MFLOP", "kFLOP", "FLOP"], "GFLOP, TFLOP, PFLOP");

    /// <inheritdoc />
    public double BaseValue => Operations;

    /// <summary>Creates the quantity from FLOP.</summary>
    public static Flops FromOperations(double value) => new(value);

    /// <inheritdoc />
    public static Flops FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 FLOP".</summary>
    public static Flops Parse(string text) => Quantity.Parse<Flops>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Flops operator +(Flops left, Flops right) => new(left.Operations + right.Operations);

    /// <summary>The difference of two amounts.</summary>
    public static Flops operator -(Flops left, Flops right) => new(left.Operations - right.Operations);

    /// <summary>The amount scaled by a factor.</summary>
    public static Flops operator *(Flops value, double factor) => new(value.Operations * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Flops operator *(double factor, Flops value) => new(value.Operations * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Flops operator /(Flops value, double divisor) => new(value.Operations / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Flops left, Flops right) => left.Operations / right.Operations;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Flops left, Flops right) => left.Operations < right.Operations;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Flops left, Flops right) => left.Operations > right.Operations;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Flops left, Flops right) => left.Operations <= right.Operations;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(Flops left, Flops right) => left.Operations >= right.Operations;

    /// <summary>The larger of two amounts.</summary>
    public static Flops Max(Flops left, Flops right) => left.Operations >= right.Operations ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Flops Min(Flops left, Flops right) => left.Operations <= right.Operations ? left : right;

    /// <inheritdoc />
    public int CompareTo(Flops other) => Operations.CompareTo(other.Operations);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
