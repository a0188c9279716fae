using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a chip family's efficiency curves from <c>catalog/efficiency/</c>.</summary>
internal static class EfficiencyReader
{
    public static ChipEfficiency? Read(YamlReader reader)
    {
        var root = reader.Root;
        reader.CheckKeys(root!, string.Empty, ["family", "provenance", "carried_over_from", "reference_chip", .. CurveKeys, .. MeasuredAttentionKeys, "kernels", HeadSizesKey, "fit", "band_widening", "families", "note"]);
        var family = reader.String(root, "family", string.Empty);
        var provenance = reader.String(root, "provenance", string.Empty);
        var measuredOn = ReadKernels(reader, root!);
        var curvesChip = ReadCurvesChip(reader, root!, measuredOn);
        if (YamlReader.Child(root, "attention_unmasked_backward") is { } lone && YamlReader.Child(root, "attention_unmasked") is null)
        {
            reader.Error(lone, "attention_unmasked_backward", "is the backward of attention_unmasked, which the file does not write: write both, or neither");
        }
        else if (YamlReader.Child(root, "attention_unmasked") is { } unmasked && YamlReader.Child(root, "attention_backward") is not null && YamlReader.Child(root, "attention_unmasked_backward") is null)
        {
            reader.Error(unmasked, "attention_unmasked", "needs attention_unmasked_backward beside it, as attention has attention_backward: a ring's backward would otherwise fall back to the forward curve while the causal backward does not");
        }

        var headSizes = ReadHeadSizes(reader, root!);
        var served = ReadServedFamilies(reader, root!, family);
        var measuredAttention = new AttentionShapes(
            OptionalCurve(reader, root, "attention_backward"), OptionalCurve(reader, root, "attention_unmasked"), OptionalCurve(reader, root, "attention_unmasked_backward"));
        if (YamlReader.Child(root, "carried_over_from") is not null)
        {
            // The curves the family writes are its own (measured on its chips); the rest come from the family named.
            var own = CurveKeys.Where(key => YamlReader.Child(root, key) is not null).ToImmutableArray();
            var ownMatrix = own.Contains("matrix") ? Curve<Flops>(reader, root, "matrix") : Placeholder;
            var ownAttention = own.Contains("attention") ? Curve<Flops>(reader, root, "attention") : Placeholder;
            var ownMemory = own.Contains("memory") ? Curve<Bytes>(reader, root, "memory") : Placeholder;
            var ownCollective = own.Contains("scale_up_collective") ? Curve<Bytes>(reader, root, "scale_up_collective") : Placeholder;
            if (own.Length == CurveKeys.Count)
            {
                reader.Error(YamlReader.Child(root, "carried_over_from")!, "carried_over_from", "the family writes all four curves, so nothing is carried over (remove carried_over_from)");
            }

            if (!own.Contains("attention") && MeasuredAttentionKeys.Append(HeadSizesKey).FirstOrDefault(key => YamlReader.Child(root, key) is not null) is { } orphan)
            {
                reader.Error(YamlReader.Child(root, orphan), orphan, "is measured beside the family's own attention curve: write that too, or remove this one");
            }

            // Resolved once every family is read: see CarryOver.
            var from = reader.String(root, "carried_over_from", string.Empty);
            var ownFit = ReadFit(reader, reader.Mapping(root, "fit", string.Empty, required: false));
            var widening = reader.Number(root, "band_widening", string.Empty, 1, 10, required: ownFit is null) ?? 1;
            return family is null || provenance is null || from is null || ownMatrix is null || ownAttention is null || ownMemory is null || ownCollective is null
                ? null
                : new ChipEfficiency(family, ownMatrix, ownAttention, ownMemory, ownCollective, provenance, ownFit)
                {
                    CarriedOverFrom = from, BandWidening = widening, HasOwnFit = ownFit is not null, OwnCurves = own, MeasuredAttention = measuredAttention, MeasuredOn = measuredOn,
                    HeadSizes = headSizes, ServesFamilies = served, CurvesChip = curvesChip,
                };
        }

        if (YamlReader.Child(root, "band_widening") is { } wideningNode)
        {
            reader.Error(wideningNode, "band_widening", "only a family with carried_over_from widens its band (its own measured runs set a fitted family's band)");
        }

        var matrix = Curve<Flops>(reader, root, "matrix");
        var attention = Curve<Flops>(reader, root, "attention");
        var memory = Curve<Bytes>(reader, root, "memory");
        var collective = Curve<Bytes>(reader, root, "scale_up_collective");
        var fit = ReadFit(reader, reader.Mapping(root, "fit", string.Empty, required: false));
        return family is null || provenance is null || matrix is null || attention is null || memory is null || collective is null
            ? null
            : new ChipEfficiency(family, matrix, attention, memory, collective, provenance, fit) { MeasuredAttention = measuredAttention, MeasuredOn = measuredOn, HeadSizes = headSizes, ServesFamilies = served, CurvesChip = curvesChip };
    }

    /// <summary>
    /// The chip a family's own matrix and memory curves describe: its <c>reference_chip</c>, else the chip its kernels
    /// were timed on. A family that writes either curve needs one (the two are read against one chip); one that
    /// writes neither carries the source family's.
    /// </summary>
    private static string? ReadCurvesChip(YamlReader reader, YamlMappingNode root, string? measuredOn)
    {
        var writes = ReferencedCurves.Where(key => YamlReader.Child(root, key) is not null).ToArray();
        var named = reader.String(root, "reference_chip", string.Empty, required: false);
        if (writes.Length == 1)
        {
            reader.Error(YamlReader.Child(root, writes[0]), writes[0], $"is written without {(writes[0] == "matrix" ? "memory" : "matrix")}: the two curves are read against one chip, so write both or neither");
        }

        if (named is not null && measuredOn is not null && named != measuredOn)
        {
            reader.Error(YamlReader.Child(root, "reference_chip"), "reference_chip", $"'{named}' differs from the chip the curves were measured on ('{measuredOn}', the kernels block's): remove reference_chip");
        }

        if (writes.Length == 0 && named is not null)
        {
            reader.Error(YamlReader.Child(root, "reference_chip"), "reference_chip", "names the chip of the family's own matrix and memory curves, but the file writes neither (remove it)");
            return null;
        }

        if (writes.Length > 0 && named is null && measuredOn is null)
        {
            reader.Error(YamlReader.Child(root, writes[0]), "reference_chip", "is missing: name the chip whose BF16 peak and memory bandwidth the matrix and memory curves describe (a chip id), so that other chips read them at the same time at peak");
        }

        return named ?? (writes.Length > 0 ? measuredOn : null);
    }

    private static readonly EfficiencyCurve Placeholder = EfficiencyCurve.Constant(1);

    private static readonly IReadOnlyList<string> CurveKeys = ChipEfficiency.CurveKeys;

    private static readonly string[] MeasuredAttentionKeys = ["attention_backward", "attention_unmasked", "attention_unmasked_backward"];

    private const string HeadSizesKey = "attention_head_sizes";

    // The curves read against the family's reference chip (its peak, its bandwidth).
    private static readonly string[] ReferencedCurves = ["matrix", "memory"];

    private static readonly string[] KernelsTextKeys = ["procedure", "measured_on", "measured_at", "chip", "attention_backend"];

    // The curves a kernel measurement may write, and those it always writes.
    private static readonly IReadOnlyList<string> MeasuredCurves = ChipEfficiency.MeasuredCurveKeys;

    // Every measurement counts its attention curves; one of attention alone (a published benchmark) leaves the matrix
    // and memory curves carried over.
    private static readonly string[] AlwaysMeasured = ["attention", "attention_backward"];

    private static EfficiencyCurve? OptionalCurve(YamlReader reader, YamlMappingNode? root, string key) =>
        YamlReader.Child(root, key) is null ? null : Curve<Flops>(reader, root, key);

    /// <summary>
    /// Replaces each family that carries another's curves over with a copy of that family's curves and fit. The family
    /// carried from may carry its own from a third (Trainium3 from Trainium1, whose curve shapes are A100's): it is
    /// resolved first, and its resolved curves and levels are what come over. A family carried from itself, directly or
    /// round a loop, or from one that does not exist, is an error.
    /// </summary>
    public static Dictionary<string, ChipEfficiency> CarryOver(Dictionary<string, ChipEfficiency> families, List<Diagnostic> diagnostics, string directory)
    {
        var resolved = new Dictionary<string, ChipEfficiency>(StringComparer.Ordinal);
        var resolving = new HashSet<string>(StringComparer.Ordinal);
        var failed = new HashSet<string>(StringComparer.Ordinal);
        ChipEfficiency? Resolve(string family)
        {
            if (resolved.TryGetValue(family, out var done) || failed.Contains(family))
            {
                return done;
            }

            var efficiency = families[family];
            if (efficiency.CarriedOverFrom is not { } from)
            {
                return resolved[family] = efficiency;
            }

            var file = Path.Combine(directory, "efficiency", family + ".yaml");
            if (!families.ContainsKey(from))
            {
                diagnostics.Add(new Diagnostic(file, 0, "carried_over_from", $"'{from}' is not a family of the catalogue (expected one of: {string.Join(", ", families.Keys.Where(key => key != family).Order(StringComparer.Ordinal))})"));
                failed.Add(family);
                return null;
            }

            if (!resolving.Add(family))
            {
                // Back at a family being resolved: every family on the loop fails, and this one says so.
                diagnostics.Add(new Diagnostic(file, 0, "carried_over_from", $"'{from}' leads back to {family}, round a loop of carried_over_from: one family on it must have curves of its own"));
                failed.UnionWith(resolving);
                return null;
            }

            var source = Resolve(from);
            resolving.Remove(family);
            if (source is null)
            {
                failed.Add(family);
                return null;
            }

            return resolved[family] = CarriedFrom(efficiency, from, source);
        }

        foreach (var family in families.Keys.Order(StringComparer.Ordinal))
        {
            Resolve(family);
        }

        return resolved;
    }

    /// <summary><paramref name="efficiency"/> with what it does not write itself taken from <paramref name="source"/>, resolved.</summary>
    private static ChipEfficiency CarriedFrom(ChipEfficiency efficiency, string from, ChipEfficiency source)
    {
        // The curves' shapes come over. The fitted levels are the family's own where it has measured runs; else
        // the other family's where its matrix and attention curves come over with them, and none (the
        // curves as written) where the family measured its own: another family's levels belong to its curves.
        EfficiencyCurve Pick(string key, EfficiencyCurve own, EfficiencyCurve carried) => efficiency.OwnCurves.Contains(key) ? own : carried;
        var ownLevels = efficiency.OwnCurves.Contains("matrix") || efficiency.OwnCurves.Contains("attention");
        return new ChipEfficiency(family: efficiency.Family, Pick("matrix", efficiency.MatrixShape, source.MatrixShape), Pick("attention", efficiency.AttentionShape, source.AttentionShape),
            Pick("memory", efficiency.Memory, source.Memory), Pick("scale_up_collective", efficiency.ScaleUpCollective, source.ScaleUpCollective), efficiency.Provenance,
            efficiency.HasOwnFit ? efficiency.Fit : ownLevels ? EfficiencyFit.None : source.Fit)
        {
            OwnCurves = efficiency.OwnCurves,
            CarriedOverFrom = from,
            CarriedLevelsFrom = source.LevelsFrom,
            BandWidening = efficiency.BandWidening,
            HasOwnFit = efficiency.HasOwnFit,
            CarriedFit = ownLevels ? null : source.Fit,
            // The measured attention curves go with the attention curve they were measured beside.
            MeasuredAttention = efficiency.OwnCurves.Contains("attention") ? efficiency.MeasuredAttention : source.MeasuredAttention,
            HeadSizes = efficiency.OwnCurves.Contains("attention") ? efficiency.HeadSizes : source.HeadSizes,
            ServesFamilies = efficiency.ServesFamilies,
            MeasuredOn = efficiency.MeasuredOn,
            // The matrix and memory curves are read against the chip they describe, the family's own or the source's.
            CurvesChip = efficiency.OwnCurves.Contains("matrix") ? efficiency.CurvesChip : source.CurvesChip,
        };
    }

    /// <summary>
    /// The block <c>clustertwin calibrate --kernels</c> writes beside the curves it measured: its fields' types, and
    /// that the curves it counts samples for are there, with as many points as it counts.
    /// </summary>
    private static string? ReadKernels(YamlReader reader, YamlMappingNode root)
    {
        if (reader.Mapping(root, "kernels", string.Empty, required: false) is not { } kernels)
        {
            return null;
        }

        reader.CheckKeys(kernels, "kernels", "procedure", "measured_on", "measured_at", "chip", "attention_backend", "samples", "memory_bound_multiplies");
        foreach (var key in KernelsTextKeys)
        {
            reader.String(kernels, key, "kernels");
        }

        var chip = YamlReader.Scalar(YamlReader.Child(kernels, "chip"));
        if (reader.Mapping(kernels, "samples", "kernels", required: true) is not { } samples)
        {
            return chip;
        }

        // Every measured curve the file writes has its counts (beside a kernels block, its matrix and memory curves are
        // measured ones too), and the attention ones always.
        foreach (var missing in AlwaysMeasured.Concat(MeasuredCurves.Where(key => YamlReader.Child(root, key) is not null)).Distinct()
            .Where(key => YamlReader.Child(samples, key) is null))
        {
            reader.Error(samples, "kernels.samples", $"counts no samples for the {missing} curve, which the measurement writes (rerun clustertwin calibrate --kernels)");
        }

        if (YamlReader.Child(root, "matrix") is not null)
        {
            reader.Integer(kernels, "memory_bound_multiplies", "kernels", 0, int.MaxValue);
        }
        else if (YamlReader.Child(kernels, "memory_bound_multiplies") is { } stray)
        {
            reader.Error(stray, "kernels.memory_bound_multiplies", "counts multiplies left out of a matrix curve the measurement does not write (it timed attention alone): remove it");
        }

        foreach (var (keyNode, counts) in samples.Children)
        {
            var key = YamlReader.Scalar(keyNode) ?? string.Empty;
            var field = $"kernels.samples.{key}";
            if (!MeasuredCurves.Contains(key))
            {
                reader.Error(keyNode, field, $"'{key}' is not a measured curve (expected one of: {string.Join(", ", MeasuredCurves)})");
            }
            else if (YamlReader.Child(root, key) is not YamlMappingNode curve)
            {
                reader.Error(keyNode, field, $"counts samples for a {key} curve the file does not write (rerun clustertwin calibrate --kernels)");
            }
            else if (counts is not YamlSequenceNode list || list.Children.Any(count => !int.TryParse(YamlReader.Scalar(count), out var value) || value < 1))
            {
                reader.Error(counts, field, "expected a list of positive whole numbers, one per point of the curve");
            }
            else if (list.Children.Count != curve.Children.Count)
            {
                reader.Error(counts, field, $"counts {list.Children.Count} points, but the {key} curve has {curve.Children.Count}");
            }
        }

        return chip;
    }

    /// <summary>
    /// The default file's <c>families</c>: the chip families that run at its curves, each a name a chip's
    /// <c>family</c> may give without an efficiency file of its own. Only the default file lists them.
    /// </summary>
    private static System.Collections.Immutable.ImmutableArray<string> ReadServedFamilies(YamlReader reader, YamlMappingNode root, string? family)
    {
        if (YamlReader.Child(root, "families") is not { } node)
        {
            return [];
        }

        if (family != HardwareCatalog.DefaultFamily)
        {
            reader.Error(node, "families", $"only {HardwareCatalog.DefaultFamily}.yaml lists the families that run at its curves: remove it here");
            return [];
        }

        if (YamlReader.Names(node) is not { } names)
        {
            reader.Error(node, "families", "expected a list of chip family names, such as [aws-trainium3, google-tpu7x]");
            return [];
        }

        return names;
    }

    /// <summary>
    /// The block <c>clustertwin calibrate --head-sizes</c> writes: fused attention's speed at other head sizes than
    /// the curves' 128, each a forward and a backward factor on the curves, with how they were measured.
    /// </summary>
    private static AttentionHeadSizes ReadHeadSizes(YamlReader reader, YamlMappingNode root)
    {
        if (reader.Mapping(root, HeadSizesKey, string.Empty, required: false) is not { } block)
        {
            return AttentionHeadSizes.None;
        }

        reader.CheckKeys(block, HeadSizesKey, "procedure", "measured_on", "attention_backend", "factors");
        var (procedure, measuredOn, backend) = (reader.String(block, "procedure", HeadSizesKey), reader.String(block, "measured_on", HeadSizesKey), reader.String(block, "attention_backend", HeadSizesKey));
        if (YamlReader.Child(block, "factors") is not YamlSequenceNode list || list.Children.Count == 0)
        {
            reader.Error(YamlReader.Child(block, "factors") ?? block, $"{HeadSizesKey}.factors", "expected a list of measured head sizes, such as - {query_key: 64, value: 64, forward: 0.74, backward: 0.79, samples: 3}");
            return AttentionHeadSizes.None;
        }

        var factors = new List<AttentionHeadSizeFactor>();
        for (var index = 0; index < list.Children.Count; index++)
        {
            var field = $"{HeadSizesKey}.factors[{index}]";
            if (list.Children[index] is not YamlMappingNode entry)
            {
                reader.Error(list.Children[index], field, "expected a mapping with query_key, value, forward, backward and samples");
                continue;
            }

            reader.CheckKeys(entry, field, "query_key", "value", "forward", "backward", "samples");
            var (queryKey, value) = (reader.Integer(entry, "query_key", field, 8, 1024), reader.Integer(entry, "value", field, 8, 1024));
            var (forward, backward) = (reader.Number(entry, "forward", field, 0.05, 2), reader.Number(entry, "backward", field, 0.05, 2));
            var samples = reader.Integer(entry, "samples", field, 1, 1000);
            if (queryKey is not { } q || value is not { } v || forward is not { } f || backward is not { } b || samples is not { } n)
            {
                continue;
            }

            var size = new AttentionHeadSize(q, v);
            if (size == AttentionHeadSize.Reference)
            {
                reader.Error(entry, field, $"head size {AttentionHeadSizes.ReferenceSize} is the curves' own (a factor of 1 by definition): remove it");
            }
            else if (factors.Any(factor => factor.HeadSize == size))
            {
                reader.Error(entry, field, $"head size {size} is listed twice");
            }
            else
            {
                factors.Add(new AttentionHeadSizeFactor(size, f, b, n));
            }
        }

        return new AttentionHeadSizes([.. factors.OrderBy(factor => factor.HeadSize.QueryKey).ThenBy(factor => factor.HeadSize.Value)], procedure ?? string.Empty, measuredOn ?? string.Empty, backend ?? string.Empty);
    }

    /// <summary>The block <c>clustertwin calibrate</c> writes: the fitted levels and how they were obtained.</summary>
    private static EfficiencyFit? ReadFit(YamlReader reader, YamlMappingNode? fit)
    {
        if (fit is null)
        {
            return null;
        }

        reader.CheckKeys(fit, "fit", "matrix_scale", "attention_scale", "procedure", "fitted_on", "held_out", "cases", "mean_absolute_error_percent", "residual_p10", "residual_p90");
        var matrix = reader.Number(fit, "matrix_scale", "fit", 0.01, 10);
        var attention = reader.Number(fit, "attention_scale", "fit", 0.01, 10);
        var procedure = reader.String(fit, "procedure", "fit");
        var cases = reader.Integer(fit, "cases", "fit", 0, 1_000_000);
        var error = reader.Number(fit, "mean_absolute_error_percent", "fit", 0, 1e6);
        var low = reader.Number(fit, "residual_p10", "fit", -5, 5, required: false) ?? EfficiencyFit.None.ResidualLow;
        var high = reader.Number(fit, "residual_p90", "fit", -5, 5, required: false) ?? EfficiencyFit.None.ResidualHigh;
        if (low > high)
        {
            reader.Error(YamlReader.Child(fit, "residual_p10"), "fit.residual_p10", $"{low} is above residual_p90 {high}");
        }

        return matrix is null || attention is null || procedure is null || cases is null || error is null
            ? null
            : new EfficiencyFit(matrix.Value, attention.Value, procedure, Keys(fit, "fitted_on"), Keys(fit, "held_out"), cases.Value, error.Value, low, high);
    }

    private static System.Collections.Immutable.ImmutableArray<string> Keys(YamlMappingNode fit, string key) =>
        YamlReader.Child(fit, key) is YamlSequenceNode list ? [.. list.Select(item => YamlReader.Scalar(item) ?? string.Empty)] : [];

    /// <summary>
    /// A curve point's lowest efficiency: tiny kernels measure below a percent of the peak (Hopper's 31.6 MFLOP
    /// multiply reaches 0.0076), but not below a millionth.
    /// </summary>
    private const double MinimumCurveEfficiency = 1e-6;

    /// <summary>A curve is a mapping from a size with its unit to an efficiency: <c>{128 GFLOP: 0.95, 1 GFLOP: 0.6}</c>.</summary>
    private static EfficiencyCurve? Curve<T>(YamlReader reader, YamlMappingNode? root, string key)
        where T : struct, IQuantity<T>
    {
        var map = reader.Mapping(root, key, string.Empty, required: true);
        if (map is null)
        {
            return null;
        }

        var points = new List<(double, double)>();
        foreach (var (sizeNode, efficiencyNode) in map.Children)
        {
            var size = reader.Quantity<T>(sizeNode, key);
            var efficiency = reader.FractionValue(MinimumCurveEfficiency)(efficiencyNode, $"{key}.{YamlReader.Scalar(sizeNode)}");
            if (size is { } known && efficiency is { } fraction)
            {
                points.Add((known.BaseValue, fraction));
            }
        }

        if (points.Count == 0)
        {
            reader.Error(map, key, "expected at least one point, such as {1 GFLOP: 0.6}");
            return null;
        }

        return new EfficiencyCurve(points);
    }
}
