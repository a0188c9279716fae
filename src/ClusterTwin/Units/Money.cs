namespace ClusterTwin.Units;

/// <summary>An amount of money in US dollars.</summary>
public readonly record struct Money(double Dollars) : IQuantity<Money>
{
    /// <summary>Zero.</summary>
    public static Money Zero => default;

    /// <inheritdoc />
    public static UnitTable Units { get; } = new("money amount", [("USD", 1.0), ("$", 1.0), ("$k", 1e3), ("$M", 1e6), ("$B", 1e9)], ["$B", "$M", "$k", "$"], "USD or a leading $");

    /// <inheritdoc />
    public double BaseValue => Dollars;

    /// <summary>Creates the quantity from USD.</summary>
    public static Money FromDollars(double value) => new(value);

    /// <inheritdoc />
    public static Money FromBaseValue(double value) => new(value);

    /// <summary>Parses text such as "1 USD".</summary>
    public static Money Parse(string text) => Quantity.Parse<Money>(text);

    /// <summary>The sum of two amounts.</summary>
    public static Money operator +(Money left, Money right) => new(left.Dollars + right.Dollars);

    /// <summary>The difference of two amounts.</summary>
    public static Money operator -(Money left, Money right) => new(left.Dollars - right.Dollars);

    /// <summary>The amount scaled by a factor.</summary>
    public static Money operator *(Money value, double factor) => new(value.Dollars * factor);

    /// <summary>The amount scaled by a factor.</summary>
    public static Money operator *(double factor, Money value) => new(value.Dollars * factor);

    /// <summary>The amount divided by a number.</summary>
    public static Money operator /(Money value, double divisor) => new(value.Dollars / divisor);

    /// <summary>The dimensionless ratio of two amounts.</summary>
    public static double operator /(Money left, Money right) => left.Dollars / right.Dollars;

    /// <summary>Whether the left amount is smaller.</summary>
    public static bool operator <(Money left, Money right) => left.Dollars < right.Dollars;

    /// <summary>Whether the left amount is larger.</summary>
    public static bool operator >(Money left, Money right) => left.Dollars > right.Dollars;

    /// <summary>Whether the left amount is at most the right.</summary>
    public static bool operator <=(Money left, Money right) => left.Dollars <= right.Dollars;

    /// <summary>Whether the left amount is at least the right.</summary>
    public static bool operator >=(Money left, Money right) => left.Dollars >= right.Dollars;

    /// <summary>The larger of two amounts.</summary>
    public static Money Max(Money left, Money right) => left.Dollars >= right.Dollars ? left : right;

    /// <summary>The smaller of two amounts.</summary>
    public static Money Min(Money left, Money right) => left.Dollars <= right.Dollars ? left : right;

    /// <inheritdoc />
    public int CompareTo(Money other) => Dollars.CompareTo(other.Dollars);

    /// <summary>Prints with the unit that fits the magnitude ("4.9 TB/s").</summary>
    public override string ToString() => Quantity.Format(this);
}
