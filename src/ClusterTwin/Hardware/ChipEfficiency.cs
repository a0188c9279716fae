namespace ClusterTwin.Hardware;

/// <summary>
/// How close one chip family comes to its peaks, as curves over operation size: the calibration data of a family.
/// </summary>
/// <param name="Family">The family key chips name in their <c>family</c> field.</param>
/// <param name="Matrix">Matrix-multiply efficiency by FLOPs per kernel.</param>
/// <param name="Attention">Fused (flash) attention efficiency by FLOPs per kernel.</param>
/// <param name="Memory">Memory-bound kernel efficiency by bytes moved per kernel.</param>
/// <param name="ScaleUpCollective">Collective bus-bandwidth efficiency on the scale-up domain by bytes per rank.</param>
/// <param name="Provenance">Where the curves come from.</param>
public sealed record ChipEfficiency(
    string Family,
    EfficiencyCurve Matrix,
    EfficiencyCurve Attention,
    EfficiencyCurve Memory,
    EfficiencyCurve ScaleUpCollective,
    string Provenance);
