namespace ClusterTwin.Units;

/// <summary>A data rate in bytes per second. Bits per second (Gb/s) are accepted and converted.</summary>
public readonly record struct Bandwidth(double BytesPerSecond) : IQuantity<Bandwidth>
{
    /// <summary>Zero.</summary>
    public static Bandwidth Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("bandwidth", UnitTable.DecimalPrefixes("B/s").Concat(UnitTable.BinaryPrefixes("B/s")).Concat(UnitTable.DecimalPrefixes("b/s", 0.125)).Concat(UnitTable.DecimalPrefixes("bps", 0.125)), ["PB/s", "TB/s", "GB/s", "MB/s", "kB/s", "TiB/s", "GiB/s", "MiB/s", "B/s"], "TB/s, GB/s, GiB/s, Gb/s");

    /// <inheritdoc />
    public double BaseValue => BytesPerSecond;

    /// <summary>Creates the quantity from B/s.</summary>
    public static Bandwidth FromBytesPerSecond(double value) => new(value);

    /// <inheritdoc />
    public static Bandwidth FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "4.9 TB/s".</summary>
    public static Bandwidth Parse(string text) => Quantity.Parse<Bandwidth>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Bandwidth operator +(Bandwidth left, Bandwidth right) => new(left.BytesPerSecond + right.BytesPerSecond);

    /// <summary>The difference of two amounts.</summary>
    public static Bandwidth operator -(Bandwidth left, Bandwidth right) => new(left.BytesPerSecond - right.BytesPerSecond);

    /// <summary>The amount scaled by a factor.</summary>
    public static Bandwidth operator *(Bandwidth value, double factor) => new(value.BytesPerSecond * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Bandwidth operator *(double factor, Bandwidth value) => new(value.BytesPerSecond * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Bandwidth operator /(Bandwidth value, double divisor) => new(value.BytesPerSecond / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Bandwidth left, Bandwidth right) => left.BytesPerSecond / right.BytesPerSecond;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Bandwidth left, Bandwidth right) => left.BytesPerSecond < right.BytesPerSecond;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Bandwidth left, Bandwidth right) => left.BytesPerSecond > right.BytesPerSecond;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Bandwidth left, Bandwidth right) => left.BytesPerSecond <= right.BytesPerSecond;

    /// <summary>Whether the left amount is at least the right.</summary>
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
