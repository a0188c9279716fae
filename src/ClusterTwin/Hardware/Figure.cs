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

    /// <summary>Replaces the value, keeping the provenance (used by sweeps and sensitivity tests).</summary>
    public Figure<T> WithValue(T value) => this with { Value = value };

    /// <inheritdoc />
    public bool Equals(Figure<T>? other) =>
        other is not null && EqualityComparer<T>.Default.Equals(Value, other.Value) && Source == other.Source &&
        Status == other.Status && Derivation == other.Derivation && Note == other.Note && Alternatives.SequenceEqual(other.Alternatives);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Value, Source, Status);
}

/// <summary>Figures made in code rather than read from the catalogue.</summary>
public static class Figure
{
    /// <summary>A figure ClusterTwin itself asserts (tests, stand-ins), marked as an estimate with the reason.</summary>
    public static Figure<T> Assumed<T>(T value, string why) => new(value, "scenario", FigureStatus.Estimate, why);
}
