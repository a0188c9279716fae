using System.Globalization;
using System.Text;
using ClusterTwin.Hardware;

namespace ClusterTwin.Calibration;

/// <summary>Writes a fit into a family's efficiency file as its last block, replacing the previous fit.</summary>
public static class EfficiencyFitWriter
{
    /// <summary>Replaces the <c>fit:</c> block of <paramref name="path"/> with <paramref name="fit"/>.</summary>
    public static void Write(string path, EfficiencyFit fit)
    {
        var lines = File.ReadAllLines(path).ToList();
        var start = lines.FindIndex(line => line.StartsWith("fit:", StringComparison.Ordinal));
        if (start >= 0)
        {
            // The fit block runs to the next top-level key or the end of the file.
            var end = start + 1;
            while (end < lines.Count && (lines[end].StartsWith(' ') || lines[end].Length == 0))
            {
                end++;
            }

            lines.RemoveRange(start, end - start);
        }
        else
        {
            start = lines.Count;
        }

        lines.InsertRange(start, Block(fit));
        File.WriteAllText(path, string.Join('\n', lines) + "\n");
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
