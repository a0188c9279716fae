namespace ClusterTwin.Units;

/// <summary>A size in bytes. GB (10^9) and GiB (2^30) are different units.</summary>
public readonly record struct Bytes(double Count) : IQuantity<Bytes>
{
    /// <summary>Zero.</summary>
    public static Bytes Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("byte count", UnitTable.DecimalPrefixes("B").Concat(UnitTable.BinaryPrefixes("B")), ["PB", "TB", "GB", "MB", "kB", "PiB", "TiB", "GiB", "MiB", "KiB", "B"], "GB, GiB, MB, TB");

    /// <inheritdoc />
    public double BaseValue => Count;

    /// <summary>Creates the quantity from B.</summary>
    public static Bytes FromCount(double value) => new(value);

    /// <inheritdoc />
    public static Bytes FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 B".</summary>
    public static Bytes Parse(string text) => Quantity.Parse<Bytes>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Bytes operator +(Bytes left, Bytes right) => new(left.Count + right.Count);

    /// <summary>The difference of two amounts.</summary>
    public static Bytes operator -(Bytes left, Bytes right) => new(left.Count - right.Count);

    /// <summary>The amount scaled by a factor.</summary>
    public static Bytes operator *(Bytes value, double factor) => new(value.Count * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Bytes operator *(double factor, Bytes value) => new(value.Count * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Bytes operator /(Bytes value, double divisor) => new(value.Count / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Bytes left, Bytes right) => left.Count / right.Count;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Bytes left, Bytes right) => left.Count < right.Count;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Bytes left, Bytes right) => left.Count > right.Count;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Bytes left, Bytes right) => left.Count <= right.Count;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(Bytes left, Bytes right) => left.Count >= right.Count;

    /// <summary>The larger of two amounts.</summary>
    public static Bytes Max(Bytes left, Bytes right) => left.Count >= right.Count ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Bytes Min(Bytes left, Bytes right) => left.Count <= right.Count ? left : right;

    /// <inheritdoc />
    public int CompareTo(Bytes other) => Count.CompareTo(other.Count);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
