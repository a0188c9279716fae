using System.Globalization;
using System.Text;
using ClusterTwin.Hardware;

namespace ClusterTwin.Calibration;

/// <summary>Writes a fit into a family's efficiency file as its last block, replacing the previous fit.</summary>
public static class EfficiencyFitWriter
{
    /// <summary>Replaces the <c>fit:</c> block of <paramref name="path"/> with <paramref name="fit"/>.</summary>
    public static void Write(string path, EfficiencyFit fit) => ReplaceBlocks(path, ["fit"], Block(fit));

    /// <summary>
    /// Removes the top-level blocks <paramref name="keys"/> of the YAML file <paramref name="path"/> (each runs to the
    /// next top-level key) and writes <paramref name="lines"/> where the first of them was; where none was, before the
    /// block <paramref name="before"/> if there is one, or at the end.
    /// </summary>
    public static void ReplaceBlocks(string path, IReadOnlyCollection<string> keys, IEnumerable<string> lines, string? before = null)
    {
        var text = File.ReadAllLines(path).ToList();
        var at = -1;
        for (var start = 0; start < text.Count; start++)
        {
            if (!keys.Any(key => text[start].StartsWith(key + ":", StringComparison.Ordinal)))
            {
                continue;
            }

            var end = start + 1;
            while (end < text.Count && (text[end].StartsWith(' ') || text[end].Length == 0))
            {
                end++;
            }

            text.RemoveRange(start, end - start);
            at = at < 0 ? start : at;
            start--;
        }

        if (at < 0 && before is not null)
        {
            at = text.FindIndex(line => line.StartsWith(before + ":", StringComparison.Ordinal));
        }

        text.InsertRange(at < 0 ? text.Count : at, lines);
        File.WriteAllText(path, string.Join('\n', text) + "\n");
    }

    /// <summary>
    /// Replaces the measured curves of the family file <paramref name="path"/> and the record of their measurement,
    /// and removes its fit, whose levels were fitted on the curves replaced (<c>clustertwin calibrate --family</c>
    /// fits them again).
    /// </summary>
    public static void WriteCurves(string path, KernelCurves curves, KernelMeasurements measurements, string procedure)
    {
        ReplaceBlocks(path, [.. ChipEfficiency.MeasuredCurveKeys, "kernels"], CurveBlock(curves, measurements, procedure), before: "fit");
        ReplaceBlocks(path, ["fit"], []);
    }

    /// <summary>Replaces the head-size factors of the family file <paramref name="path"/>, beside its measured curves.</summary>
    public static void WriteHeadSizes(string path, AttentionHeadSizes headSizes)
    {
        ArgumentNullException.ThrowIfNull(headSizes);
        ReplaceBlocks(path, ["attention_head_sizes"], HeadSizesBlock(headSizes), before: "fit");
    }

    /// <summary>The YAML lines of head-size factors.</summary>
    public static IEnumerable<string> HeadSizesBlock(AttentionHeadSizes headSizes)
    {
        ArgumentNullException.ThrowIfNull(headSizes);
        static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);
        yield return "attention_head_sizes:        # written by clustertwin calibrate --head-sizes; do not edit by hand";
        yield return $"  procedure: {Quoted(headSizes.Procedure)}";
        yield return $"  measured_on: {Quoted(headSizes.MeasuredOn)}";
        yield return $"  attention_backend: {Quoted(headSizes.AttentionBackend)}";
        yield return "  factors:                   # speed per operation against head size 128 (forward, backward), median over the sequence lengths timed";
        foreach (var factor in headSizes.Factors)
        {
            yield return $"    - {{query_key: {factor.HeadSize.QueryKey}, value: {factor.HeadSize.Value}, forward: {Number(factor.Forward)}, backward: {Number(factor.Backward)}, samples: {factor.Samples}}}";
        }
    }

    // A YAML double-quoted scalar: backslashes, quotes and control characters escaped.
    private static string Quoted(string text) => "\"" + string.Concat(text.Select(character => character switch
    {
        '\\' => "\\\\",
        '"' => "\\\"",
        '\n' => "\\n",
        '\t' => "\\t",
        '\r' => "\\r",
        _ when char.IsControl(character) => $"\\x{(int)character:x2}",
        _ => character.ToString(),
    })) + "\"";

    /// <summary>The YAML lines of measured curves.</summary>
    public static IEnumerable<string> CurveBlock(KernelCurves curves, KernelMeasurements measurements, string procedure)
    {
        ArgumentNullException.ThrowIfNull(curves);
        ArgumentNullException.ThrowIfNull(measurements);
        foreach (var curve in curves.Curves)
        {
            yield return $"{curve.Key}: {{{string.Join(", ", curve.Points.Select(point => $"{KernelCurveFit.SizeText(point.Size, curve.Unit)}: {point.Efficiency.ToString(CultureInfo.InvariantCulture)}"))}}}";
        }

        yield return "kernels:                     # written by clustertwin calibrate --kernels; do not edit by hand";
        yield return $"  procedure: {Quoted(procedure)}";
        yield return $"  measured_on: {Quoted(measurements.Device)}";
        yield return $"  measured_at: {Quoted(measurements.MeasuredAt)}";
        yield return $"  chip: {Quoted(curves.Chip.Id)}";
        yield return $"  attention_backend: {Quoted(curves.AttentionBackend)}";
        yield return $"  samples: {{{string.Join(", ", curves.Curves.Select(curve => $"{curve.Key}: [{string.Join(", ", curve.Points.Select(point => point.Samples))}]"))}}}";
        if (curves["matrix"] is not null)
        {
            yield return $"  memory_bound_multiplies: {curves.MemoryBound}           # left out of the matrix curve: their traffic explains their time";
        }
    }

    /// <summary>The YAML lines of a fit.</summary>
    public static IEnumerable<string> Block(EfficiencyFit fit)
    {
        string Number(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
        yield return "fit:                         # written by clustertwin calibrate; do not edit by hand";
        yield return $"  matrix_scale: {Number(fit.MatrixScale)}";
        yield return $"  attention_scale: {Number(fit.AttentionScale)}";
        yield return $"  procedure: \"{fit.Procedure}\"";
        yield return $"  fitted_on: [{string.Join(", ", fit.FittedOn)}]";
        yield return $"  held_out: [{string.Join(", ", fit.HeldOut)}]";
        yield return $"  cases: {fit.Cases}";
        yield return $"  mean_absolute_error_percent: {Number(fit.MeanAbsoluteErrorPercent)}";
        yield return $"  residual_p10: {Number(fit.ResidualLow)}           # ln(measured / predicted step time), 10th percentile of the fitted cases";
        yield return $"  residual_p90: {Number(fit.ResidualHigh)}";
    }
}
