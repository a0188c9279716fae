using System.Numerics;

namespace ClusterTwin.Units;

/// <summary>
/// A physical quantity held as a <see cref="double"/> in its SI base unit (FLOP, byte, second, watt, joule, US dollar).
/// </summary>
/// <remarks>
/// Implementation note: every quantity is a small <c>readonly record struct</c> with only the operators that are
/// physically meaningful (bytes divided by bandwidth is a duration; bytes plus FLOPs does not compile).
/// Nothing converts implicitly to <see cref="double"/>: code that needs the number names the unit it wants.
/// </remarks>
public interface IQuantity<TSelf> :
    IAdditionOperators<TSelf, TSelf, TSelf>,
    ISubtractionOperators<TSelf, TSelf, TSelf>,
    IComparisonOperators<TSelf, TSelf, bool>,
    IComparable<TSelf>
    where TSelf : struct, IQuantity<TSelf>
{
    /// <summary>The value in the SI base unit of the quantity.</summary>
    double BaseValue { get; }

    /// <summary>Creates the quantity from a value in its SI base unit.</summary>
    static abstract TSelf FromBaseValue(double value);

    /// <summary>The unit table used for parsing and printing.</summary>
    static abstract UnitTable Units { get; }
}
