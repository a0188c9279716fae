using System.Collections.Immutable;

namespace ClusterTwin.Hardware;

/// <summary>How much a figure can be trusted: where it comes from.</summary>
public enum FigureStatus
{
    /// <summary>The vendor's own documentation or datasheet.</summary>
    Official,

    /// <summary>Press, analysts or a third-party compilation.</summary>
    Reported,

    /// <summary>ClusterTwin's own estimate, with a stated derivation.</summary>
    Estimate,

    /// <summary>Derived from announced multipliers for hardware that does not ship yet.</summary>
    Projection,
}

/// <summary>A hardware figure with its provenance.</summary>
/// <typeparam name="T">The quantity.</typeparam>
/// <param name="Value">The figure.</param>
/// <param name="Source">A source id from <c>catalog/sources/</c>.</param>
/// <param name="Status">How it was obtained.</param>
/// <param name="Derivation">How an estimate or projection was made.</param>
/// <param name="Note">What a reader should know about it.</param>
public sealed record Figure<T>(T Value, string Source, FigureStatus Status = FigureStatus.Official, string? Derivation = null, string? Note = null)
{
    /// <summary>Other published values for the same figure; they widen the uncertainty band.</summary>
    public ImmutableArray<T> Alternatives { get; init; } = [];

    /// <summary>
    /// The range an estimate is believed to lie in (low, high), where its derivation gives one; it widens the
    /// uncertainty of whatever the figure feeds.
    /// </summary>
    public (T Low, T High)? Range { get; init; }

    /// <summary>The lowest value the figure may take: the least of its value, its alternatives and its range's low end.</summary>
    public T Lowest => Extreme(sign: -1);

    /// <summary>The highest value the figure may take: the greatest of its value, its alternatives and its range's high end.</summary>
    public T Highest => Extreme(sign: 1);

    /// <summary>The figure with every value it may take (value, alternatives, range) passed through <paramref name="change"/>, as a derived figure.</summary>
    public Figure<T> Scaled(Func<T, T> change, string derivation)
    {
        ArgumentNullException.ThrowIfNull(change);
        return this with
        {
            Value = change(Value),
            Alternatives = [.. Alternatives.Select(change)],
            Range = Range is { } range ? (change(range.Low), change(range.High)) : null,
            Status = Status < FigureStatus.Estimate ? FigureStatus.Estimate : Status,
            Derivation = derivation,
        };
    }

    /// <summary>The least (<paramref name="sign"/> -1) or greatest (+1) value the figure may take; searches call it per layout, so it does not allocate.</summary>
    private T Extreme(int sign)
    {
        var comparer = Comparer<T>.Default;
        var extreme = Value;
        foreach (var alternative in Alternatives)
        {
            extreme = comparer.Compare(alternative, extreme) * sign > 0 ? alternative : extreme;
        }

        if (Range is { } range)
        {
            var end = sign < 0 ? range.Low : range.High;
            extreme = comparer.Compare(end, extreme) * sign > 0 ? end : extreme;
        }

        return extreme;
    }

    /// <summary>Replaces the value, keeping the provenance (used by sweeps and sensitivity tests).</summary>
    public Figure<T> WithValue(T value) => this with { Value = value };

    /// <inheritdoc />
    public bool Equals(Figure<T>? other) =>
        other is not null && EqualityComparer<T>.Default.Equals(Value, other.Value) && Source == other.Source &&
        Status == other.Status && Derivation == other.Derivation && Note == other.Note && Alternatives.SequenceEqual(other.Alternatives) &&
        EqualityComparer<(T Low, T High)?>.Default.Equals(Range, other.Range);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Value, Source, Status);
}

/// <summary>Figures made in code rather than read from the catalogue.</summary>
public static class Figure
{
    /// <summary>A figure ClusterTwin itself asserts (tests, stand-ins), marked as an estimate with the reason.</summary>
    public static Figure<T> Assumed<T>(T value, string why) => new(value, "scenario", FigureStatus.Estimate, why);
}
