namespace ClusterTwin.Units;

/// <summary>A rate of floating-point operations (peak or achieved), in FLOP per second.</summary>
public readonly record struct FlopRate(double OperationsPerSecond) : IQuantity<FlopRate>
{
    /// <summary>Zero.</summary>
    public static FlopRate Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("FLOP rate", UnitTable.DecimalPrefixes("FLOPS").Concat(UnitTable.DecimalPrefixes("FLOP/s")), ["EFLOPS", "PFLOPS", "TFLOPS", "GFLOPS", "MFLOPS", "FLOPS"], "TFLOPS, PFLOPS, GFLOPS");

    /// <inheritdoc />
    public double BaseValue => OperationsPerSecond;

    /// <summary>Creates the quantity from FLOP/s.</summary>
    public static FlopRate FromOperationsPerSecond(double value) => new(value);

    /// <inheritdoc />
    public static FlopRate FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 FLOP/s".</summary>
    public static FlopRate Parse(string text) => Quantity.Parse<FlopRate>(text);

    /// <summary>The sum of two amounts.</summary>
    public static FlopRate operator +(FlopRate left, FlopRate right) => new(left.OperationsPerSecond + right.OperationsPerSecond);

    /// <summary>The difference of two amounts.</summary>
    public static FlopRate operator -(FlopRate left, FlopRate right) => new(left.OperationsPerSecond - right.OperationsPerSecond);

    /// <summary>The amount scaled by a factor.</summary>
    public static FlopRate operator *(FlopRate value, double factor) => new(value.OperationsPerSecond * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static FlopRate operator *(double factor, FlopRate value) => new(value.OperationsPerSecond * factor);

    /// <summary>The amount divided by a number.</summary>
    public static FlopRate operator /(FlopRate value, double divisor) => new(value.OperationsPerSecond / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(FlopRate left, FlopRate right) => left.OperationsPerSecond / right.OperationsPerSecond;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(FlopRate left, FlopRate right) => left.OperationsPerSecond < right.OperationsPerSecond;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(FlopRate left, FlopRate right) => left.OperationsPerSecond > right.OperationsPerSecond;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(FlopRate left, FlopRate right) => left.OperationsPerSecond <= right.OperationsPerSecond;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(FlopRate left, FlopRate right) => left.OperationsPerSecond >= right.OperationsPerSecond;

    /// <summary>The larger of two amounts.</summary>
    public static FlopRate Max(FlopRate left, FlopRate right) => left.OperationsPerSecond >= right.OperationsPerSecond ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static FlopRate Min(FlopRate left, FlopRate right) => left.OperationsPerSecond <= right.OperationsPerSecond ? left : right;

    /// <inheritdoc />
    public int CompareTo(FlopRate other) => OperationsPerSecond.CompareTo(other.OperationsPerSecond);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
