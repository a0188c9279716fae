using System.Collections.Immutable;

namespace ClusterTwin.Hardware;

/// <summary>The head widths of one attention: the queries' and keys' (<c>d_qk</c>) and the values' (<c>d_v</c>).</summary>
/// <param name="QueryKey">Width of a query and key head, the rotary part of latent attention's included.</param>
/// <param name="Value">Width of a value head.</param>
public readonly record struct AttentionHeadSize(int QueryKey, int Value)
{
    /// <summary>The head size at which the fused-attention curves are measured: 128 for queries, keys and values.</summary>
    public static AttentionHeadSize Reference { get; } = new(AttentionHeadSizes.ReferenceSize, AttentionHeadSizes.ReferenceSize);

    /// <inheritdoc />
    public override string ToString() => QueryKey == Value ? $"{QueryKey}" : $"{QueryKey}/{Value}";
}

/// <summary>
/// Fused attention's speed per operation at one head size, against the same kernel at head size 128 on the same
/// sequences: the measured curves' (<see cref="ChipEfficiency.AttentionForward"/>) multiplier for that size.
/// </summary>
/// <param name="HeadSize">The head size timed.</param>
/// <param name="Forward">The forward's speed per operation against 128's.</param>
/// <param name="Backward">The backward's.</param>
/// <param name="Samples">How many sequence lengths the medians are over.</param>
public sealed record AttentionHeadSizeFactor(AttentionHeadSize HeadSize, double Forward, double Backward, int Samples);

/// <summary>
/// How a family's fused attention runs at head sizes other than the 128 its curves were measured at: the tiles a
/// kernel picks for 64 or 192 use the tensor cores less well per operation than those for 128 (on an H100 under
/// cuDNN, head size 64 runs about a quarter slower per operation, and 192's backward a third slower).
/// </summary>
/// <remarks>
/// A head size measured as such (latent attention's 192/128 among them) takes its own factors. Any other takes the
/// factors of its query-key width interpolated linearly between the square sizes measured (128 counting as 1), and
/// those of the nearest end beyond them. A family that measured none runs every head size at its curves (1).
/// </remarks>
/// <param name="Factors">The measured sizes' factors.</param>
/// <param name="Procedure">The command that wrote them.</param>
/// <param name="MeasuredOn">The device and software they were timed on.</param>
/// <param name="AttentionBackend">The fused attention timed.</param>
public sealed record AttentionHeadSizes(ImmutableArray<AttentionHeadSizeFactor> Factors, string Procedure = "", string MeasuredOn = "", string AttentionBackend = "")
{
    /// <summary>The head size of the measured curves.</summary>
    public const int ReferenceSize = 128;

    /// <summary>No head-size measurement: every head size runs at the curves.</summary>
    public static AttentionHeadSizes None { get; } = new([]);

    /// <summary>The forward and backward multipliers on the curves for attention of <paramref name="headSize"/>.</summary>
    public (double Forward, double Backward) At(AttentionHeadSize headSize)
    {
        if (Factors.IsEmpty || headSize == AttentionHeadSize.Reference)
        {
            return (1, 1);
        }

        foreach (var factor in Factors)
        {
            if (factor.HeadSize == headSize)
            {
                return (factor.Forward, factor.Backward);
            }
        }

        // The square sizes measured, with 128 at 1: the nearest at or below the width and the nearest above it,
        // without allocating (the plan search asks millions of times).
        var size = (double)headSize.QueryKey;
        (double Size, double Forward, double Backward) reference = (ReferenceSize, 1.0, 1.0);
        (double Size, double Forward, double Backward)? below = size >= ReferenceSize ? reference : null, above = size < ReferenceSize ? reference : null;
        foreach (var factor in Factors)
        {
            if (factor.HeadSize.QueryKey != factor.HeadSize.Value || factor.HeadSize.QueryKey == ReferenceSize)
            {
                continue;
            }

            (double Size, double Forward, double Backward) point = (factor.HeadSize.QueryKey, factor.Forward, factor.Backward);
            if (point.Size <= size && (below is null || point.Size > below.Value.Size))
            {
                below = point;
            }

            if (point.Size > size && (above is null || point.Size < above.Value.Size))
            {
                above = point;
            }
        }

        if (below is not { } low)
        {
            return (above!.Value.Forward, above.Value.Backward);
        }

        if (above is not { } high)
        {
            return (low.Forward, low.Backward);
        }

        var fraction = (size - low.Size) / (high.Size - low.Size);
        return (low.Forward + (fraction * (high.Forward - low.Forward)), low.Backward + (fraction * (high.Backward - low.Backward)));
    }

    /// <inheritdoc />
    public bool Equals(AttentionHeadSizes? other) => other is not null && Factors.SequenceEqual(other.Factors) && Procedure == other.Procedure &&
        MeasuredOn == other.MeasuredOn && AttentionBackend == other.AttentionBackend;

    /// <inheritdoc />
    public override int GetHashCode() => Factors.Length;
}
