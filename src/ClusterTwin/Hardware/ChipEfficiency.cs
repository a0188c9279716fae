using System.Collections.Immutable;

namespace ClusterTwin.Hardware;

/// <summary>
/// The levels fitted to measured runs for one chip family: multipliers on the shapes of its matrix and attention
/// curves, with the record of how they were fitted.
/// </summary>
/// <param name="MatrixScale">Multiplier on the matrix-multiply curve.</param>
/// <param name="AttentionScale">Multiplier on the fused-attention curve.</param>
/// <param name="Procedure">The command that produced the fit.</param>
/// <param name="FittedOn">Source keys of the cases fitted.</param>
/// <param name="HeldOut">Source keys of the cases kept out of the fit.</param>
/// <param name="Cases">How many cases were fitted.</param>
/// <param name="MeanAbsoluteErrorPercent">Mean absolute error over the fitted cases.</param>
/// <param name="ResidualLow">10th percentile of ln(measured / predicted) step time over the fitted cases.</param>
/// <param name="ResidualHigh">90th percentile of the same. Unfitted, both default to ln 1.3: a step 30% either way.</param>
public sealed record EfficiencyFit(double MatrixScale, double AttentionScale, string Procedure, ImmutableArray<string> FittedOn, ImmutableArray<string> HeldOut, int Cases, double MeanAbsoluteErrorPercent, double ResidualLow = -0.26236, double ResidualHigh = 0.26236)
{
    /// <summary>No fit: the curves as written, with the wide band of an unfitted family.</summary>
    public static EfficiencyFit None { get; } = new(1, 1, "none", [], [], 0, 0);

    /// <inheritdoc />
    public bool Equals(EfficiencyFit? other) => other is not null && MatrixScale == other.MatrixScale && AttentionScale == other.AttentionScale &&
        Procedure == other.Procedure && FittedOn.SequenceEqual(other.FittedOn) && HeldOut.SequenceEqual(other.HeldOut) &&
        Cases == other.Cases && MeanAbsoluteErrorPercent == other.MeanAbsoluteErrorPercent && ResidualLow == other.ResidualLow && ResidualHigh == other.ResidualHigh;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(MatrixScale, AttentionScale);
}

/// <summary>
/// How close one chip family comes to its peaks, as curves over operation size: the calibration data of a family.
/// The matrix and attention curves are the written shapes times the fitted levels.
/// </summary>
public sealed record ChipEfficiency
{
    /// <summary>Creates the efficiency of a family from its written curves and its fit.</summary>
    /// <param name="family">The family key chips name in their <c>family</c> field.</param>
    /// <param name="matrixShape">Matrix-multiply efficiency by FLOPs per kernel, before the fitted level.</param>
    /// <param name="attentionShape">Fused (flash) attention efficiency by FLOPs of the forward kernel, before the fitted level: the causal forward's where the family measured its backward apart (<see cref="MeasuredAttention"/>), else every attention kernel's by its own FLOPs.</param>
    /// <param name="memory">Memory-bound kernel efficiency by bytes moved per kernel.</param>
    /// <param name="scaleUpCollective">Collective bus-bandwidth efficiency on the scale-up domain by bytes per rank.</param>
    /// <param name="provenance">Where the curves come from.</param>
    /// <param name="fit">The fitted levels.</param>
    public ChipEfficiency(string family, EfficiencyCurve matrixShape, EfficiencyCurve attentionShape, EfficiencyCurve memory, EfficiencyCurve scaleUpCollective, string provenance, EfficiencyFit? fit = null)
    {
        Family = family;
        MatrixShape = matrixShape;
        AttentionShape = attentionShape;
        Memory = memory;
        ScaleUpCollective = scaleUpCollective;
        Provenance = provenance;
        Fit = fit ?? EfficiencyFit.None;
        Matrix = matrixShape.Scaled(Fit.MatrixScale);
        Attention = attentionShape.Scaled(Fit.AttentionScale);
    }

    /// <summary>The keys of a family file's four curves, which a family either writes or carries over.</summary>
    public static IReadOnlyList<string> CurveKeys { get; } = ["matrix", "attention", "memory", "scale_up_collective"];

    /// <summary>The keys of the curves a kernel measurement writes (<c>clustertwin calibrate --kernels</c>), in its order.</summary>
    public static IReadOnlyList<string> MeasuredCurveKeys { get; } = ["matrix", "attention", "attention_backward", "attention_unmasked", "attention_unmasked_backward", "memory"];

    /// <summary>The family key.</summary>
    public string Family { get; }

    /// <summary>The matrix curve as written.</summary>
    public EfficiencyCurve MatrixShape { get; }

    /// <summary>The attention curve as written.</summary>
    public EfficiencyCurve AttentionShape { get; }

    /// <summary>Matrix-multiply efficiency by FLOPs per kernel (shape times fitted level).</summary>
    public EfficiencyCurve Matrix { get; }

    /// <summary>Fused attention efficiency by FLOPs of the forward kernel (shape times fitted level); see <see cref="AttentionForward"/> and <see cref="AttentionBackward"/>.</summary>
    public EfficiencyCurve Attention { get; }

    /// <summary>
    /// The family's measured fused-attention curves beyond the causal forward one (<see cref="AttentionShape"/>), as
    /// written: the backward's, and the forward's and backward's without a mask. Each is optional.
    /// </summary>
    public AttentionShapes MeasuredAttention
    {
        get => measuredAttention;
        init
        {
            measuredAttention = value;
            scaledAttention = new(value.Backward?.Scaled(Fit.AttentionScale), FollowingBelow(value.Unmasked, AttentionShape)?.Scaled(Fit.AttentionScale),
                FollowingBelow(value.UnmaskedBackward, value.Backward ?? AttentionShape)?.Scaled(Fit.AttentionScale));
        }
    }

    /// <summary>
    /// The forward efficiency curve of a fused attention (shape times the attention level): the unmasked one where
    /// <paramref name="unmasked"/> and the family has one, else the causal one.
    /// </summary>
    public EfficiencyCurve AttentionForward(bool unmasked) => unmasked && scaledAttention.Unmasked is { } curve ? curve : Attention;

    /// <summary>
    /// The backward efficiency curve of a fused attention, by the forward's operations, where the family measured one
    /// (see <see cref="AttentionForward"/> for which); null: the forward curve at the backward's own operations serves.
    /// </summary>
    public EfficiencyCurve? AttentionBackward(bool unmasked) => unmasked && scaledAttention.Unmasked is not null ? scaledAttention.UnmaskedBackward : scaledAttention.Backward;

    /// <summary>
    /// How the family's fused attention runs at head sizes other than its curves' 128, where it measured that
    /// (<see cref="AttentionHeadSizes"/>); none: at the curves whatever the head size.
    /// </summary>
    public AttentionHeadSizes HeadSizes { get; init; } = AttentionHeadSizes.None;

    /// <summary>
    /// For the default curves: the chip families without curves of their own that run at them (the default file's
    /// <c>families</c>), so that a chip naming any other family is a typo the catalogue reports; empty for any other.
    /// </summary>
    public ImmutableArray<string> ServesFamilies { get; init; } = [];

    /// <summary>Memory-bound kernel efficiency by bytes per kernel.</summary>
    public EfficiencyCurve Memory { get; }

    /// <summary>Scale-up collective efficiency by bytes per rank.</summary>
    public EfficiencyCurve ScaleUpCollective { get; }

    /// <summary>Where the curves come from.</summary>
    public string Provenance { get; }

    /// <summary>The fitted levels.</summary>
    public EfficiencyFit Fit { get; }

    /// <summary>The family whose curves and fit this one carries over, until it has measured runs of its own.</summary>
    public string? CarriedOverFrom { get; init; }

    /// <summary>
    /// The curves a family that carries another's over writes itself (measured on its own chips): keys among
    /// <c>matrix</c>, <c>attention</c>, <c>memory</c> and <c>scale_up_collective</c>.
    /// </summary>
    public ImmutableArray<string> OwnCurves { get; init; } = [];

    /// <summary>The chip whose kernel timings the family's measured curves come from (the kernels block's), if any.</summary>
    public string? MeasuredOn { get; init; }

    /// <summary>
    /// The chip the matrix and memory curves describe (the measured chip, or the file's <c>reference_chip</c>, or the
    /// family's they are carried from): a kernel on another chip reads them at the same time at peak (see
    /// <see cref="MatrixSizeOnCurves"/>).
    /// </summary>
    public string? CurvesChip { get; init; }

    /// <summary><see cref="CurvesChip"/>'s dense BF16 peak, which the matrix curve's operations are counted at; null: read as written.</summary>
    public Units.FlopRate? CurvesPeak { get; init; }

    /// <summary><see cref="CurvesChip"/>'s memory bandwidth, which the memory curve's bytes are counted at; null: read as written.</summary>
    public Units.Bandwidth? CurvesBandwidth { get; init; }

    /// <summary>
    /// Where on the matrix curve a multiply of <paramref name="operations"/> at <paramref name="peak"/> falls: the
    /// operations the curves' chip would do in the time this chip takes at its peak. A kernel's efficiency follows
    /// its time (fixed costs per kernel, waves of tiles) more than its operations: the H100's measured curve reaches
    /// its plateau at about the A100's operations times their peak ratio (docs/calibration.md).
    /// </summary>
    public double MatrixSizeOnCurves(double operations, Units.FlopRate peak) =>
        CurvesPeak is { } reference ? operations * (reference.OperationsPerSecond / peak.OperationsPerSecond) : operations;

    /// <summary>Where on the memory curve a kernel moving <paramref name="bytes"/> at <paramref name="bandwidth"/> falls, as <see cref="MatrixSizeOnCurves"/>.</summary>
    public double MemorySizeOnCurves(double bytes, Units.Bandwidth bandwidth) =>
        CurvesBandwidth is { } reference ? bytes * (reference.BytesPerSecond / bandwidth.BytesPerSecond) : bytes;

    /// <summary>The fitted levels of the family the curves come from, for a family that carries another's curves over.</summary>
    public EfficiencyFit? CarriedFit { get; init; }

    /// <summary>Whether the levels were fitted to this family's own measured runs (false: borrowed with the curves).</summary>
    public bool HasOwnFit { get; init; } = true;

    /// <summary>
    /// The family whose measured runs the levels were fitted on: this one where it has its own fit, else the family
    /// its levels came from, followed along a chain of carry-overs (a family carried from Trainium3, which carries
    /// Trainium1's, names Trainium1).
    /// </summary>
    public string LevelsFrom => HasOwnFit ? Family : CarriedLevelsFrom ?? CarriedOverFrom ?? Family;

    /// <summary>The source's own <see cref="LevelsFrom"/>, set where the carry-over is resolved; null before.</summary>
    public string? CarriedLevelsFrom { get; init; }

    /// <summary>How much wider than the fitted residuals the band is: 1 for a fitted family, more for one that carries another's fit over.</summary>
    public double BandWidening { get; init; } = 1;

    /// <summary>The same curves with another fit.</summary>
    public ChipEfficiency WithFit(EfficiencyFit fit) => new(Family, MatrixShape, AttentionShape, Memory, ScaleUpCollective, Provenance, fit)
    {
        CarriedOverFrom = CarriedOverFrom, CarriedLevelsFrom = CarriedLevelsFrom, BandWidening = BandWidening, HasOwnFit = HasOwnFit, CarriedFit = CarriedFit, OwnCurves = OwnCurves, MeasuredAttention = MeasuredAttention, MeasuredOn = MeasuredOn,
        HeadSizes = HeadSizes, ServesFamilies = ServesFamilies, CurvesChip = CurvesChip, CurvesPeak = CurvesPeak, CurvesBandwidth = CurvesBandwidth,
    };

    /// <summary>
    /// An unmasked curve extended below the smallest size it was measured at, falling there as the causal curve does
    /// (a short ring step fills the chip no better than a short causal kernel), rather than held flat at its first
    /// point.
    /// </summary>
    private static EfficiencyCurve? FollowingBelow(EfficiencyCurve? unmasked, EfficiencyCurve causal)
    {
        if (unmasked is null)
        {
            return null;
        }

        var (size, efficiency) = unmasked.Points[0];
        var below = causal.Points.Where(point => point.Size < size).Select(point => (point.Size, efficiency * causal.At(point.Size) / causal.At(size)));
        return new EfficiencyCurve(below.Concat(unmasked.Points));
    }

    private readonly AttentionShapes measuredAttention = AttentionShapes.None;
    private readonly AttentionShapes scaledAttention = AttentionShapes.None;
}

/// <summary>
/// Fused-attention efficiency curves measured beside the causal forward one, each by the forward's operations; null
/// where not measured.
/// </summary>
/// <param name="Backward">The backward of causal attention.</param>
/// <param name="Unmasked">The forward of attention without a mask (a context-parallel ring step between two different chunks).</param>
/// <param name="UnmaskedBackward">Its backward.</param>
public sealed record AttentionShapes(EfficiencyCurve? Backward, EfficiencyCurve? Unmasked, EfficiencyCurve? UnmaskedBackward)
{
    /// <summary>None measured.</summary>
    public static AttentionShapes None { get; } = new(null, null, null);
}
