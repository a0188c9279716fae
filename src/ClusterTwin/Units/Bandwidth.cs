namespace ClusterTwin.Units;

/// <summary>A data rate in bytes per second. Bits per second (Gb/s) are accepted and converted.</summary>
public readonly record struct Bandwidth(double BytesPerSecond) : IQuantity<Bandwidth>
{
    /// <summary>Zero.</summary>
    public static Bandwidth Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("bandwidth", UnitTable.Decimal("B/s").Concat(UnitTable.Binary("B/s")).Concat(UnitTable.Decimal("b/s", 0.125)).Concat(UnitTable.Decimal("bps", 0.125)), ["PB/s", "TB/s", "GB/s", "MB/s", "kB/s", "TiB/s", "GiB/s", "MiB/s", "B/s"], "TB/s, GB/s, GiB/s, Gb/s");

    /// <inheritdoc />
    public double BaseValue => BytesPerSecond;

    /// <summary>Creates the quantity from B/s.</summary>
    public static Bandwidth FromBytesPerSecond(double value) => new(value);

    /// <inheritdoc />
    public static Bandwidth FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "4.9 TB/s".</summary>
    public static Bandwidth Parse(string text) => Quantity.Parse<Bandwidth>(text);

    public static Bandwidth operator +(Bandwidth left, Bandwidth right) => new(left.BytesPerSecond + right.BytesPerSecond);

    public static Bandwidth operator -(Bandwidth left, Bandwidth right) => new(left.BytesPerSecond - right.BytesPerSecond);

    public static Bandwidth operator *(Bandwidth value, double factor) => new(value.BytesPerSecond * factor);

    public static Bandwidth operator *(double factor, Bandwidth value) => new(value.BytesPerSecond * factor);

    public static Bandwidth operator /(Bandwidth value, double divisor) => new(value.BytesPerSecond / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Bandwidth left, Bandwidth right) => left.BytesPerSecond / right.BytesPerSecond;

    public static bool operator <(Bandwidth left, Bandwidth right) => left.BytesPerSecond < right.BytesPerSecond;

    public static bool operator >(Bandwidth left, Bandwidth right) => left.BytesPerSecond > right.BytesPerSecond;

    public static bool operator <=(Bandwidth left, Bandwidth right) => left.BytesPerSecond <= right.BytesPerSecond;

    public static bool operator >=(Bandwidth left, Bandwidth right) => left.BytesPerSecond >= right.BytesPerSecond;

    /// <summary>The larger of two amounts.</summary>
    public static Bandwidth Max(Bandwidth left, Bandwidth right) => left.BytesPerSecond >= right.BytesPerSecond ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Bandwidth Min(Bandwidth left, Bandwidth right) => left.BytesPerSecond <= right.BytesPerSecond ? left : right;

    /// <inheritdoc />
    public int CompareTo(Bandwidth other) => BytesPerSecond.CompareTo(other.BytesPerSecond);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
