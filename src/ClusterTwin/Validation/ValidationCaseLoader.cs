using ClusterTwin.Catalog;

namespace ClusterTwin.Validation;

/// <summary>
/// Reads a validation case: <c>id</c>, <c>source</c>, <c>measured</c> (the figure the source measured) and
/// <c>scenario</c> (the same fields as a scenario file). See <c>validation/README.md</c>.
/// </summary>
public static class ValidationCaseLoader
{
    /// <summary>Loads every <c>*.yaml</c> case in <paramref name="directory"/>, sorted by file name, reporting the problems of every file at once.</summary>
    public static IReadOnlyList<ValidationCase> LoadAll(string directory, HardwareCatalog catalog)
    {
        var cases = new List<ValidationCase>();
        var problems = new List<Diagnostic>();
        foreach (var file in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            try
            {
                cases.Add(Load(file, catalog));
            }
            catch (InputException exception)
            {
                problems.AddRange(exception.Diagnostics);
            }
        }

        return problems.Count > 0 ? throw new InputException(problems) : cases;
    }

    /// <summary>Loads one case, or throws <see cref="InputException"/> with every problem.</summary>
    public static ValidationCase Load(string path, HardwareCatalog catalog)
    {
        var reader = YamlReader.Open(path, path);
        ValidationCase? result = null;
        if (reader.Root is { } root)
        {
            reader.CheckKeys(root, string.Empty, "id", "source", "source_key", "measured", "scenario", "note", "not_fitted");
            var id = reader.String(root, "id", string.Empty);
            var source = reader.String(root, "source", string.Empty);
            var sourceKey = reader.String(root, "source_key", string.Empty);
            var measured = reader.Mapping(root, "measured", string.Empty, required: true);
            var (metric, value) = ReadMeasurement(reader, measured);
            var scenarioMap = reader.Mapping(root, "scenario", string.Empty, required: true);
            var scenario = scenarioMap is null ? null : ScenarioLoader.Read(reader, scenarioMap, "scenario", catalog, id ?? Path.GetFileNameWithoutExtension(path));
            if (id is not null && source is not null && sourceKey is not null && value is { } figure && scenario is not null)
            {
                result = new ValidationCase(id, source, sourceKey, scenario, metric, figure) { NotFitted = reader.String(root, "not_fitted", string.Empty, required: false) };
            }
        }

        if (reader.Diagnostics.Count > 0 || result is null)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "validation case could not be read")]);
        }

        return result;
    }

    private static (MeasuredMetric Metric, double? Value) ReadMeasurement(YamlReader reader, YamlDotNet.RepresentationModel.YamlMappingNode? measured)
    {
        if (measured is null)
        {
            return (MeasuredMetric.StepTime, null);
        }

        reader.CheckKeys(measured, "measured", "step_time", "tokens_per_second_per_chip", "model_tflops_per_chip", "model_tflops_per_chip_causal");
        if (YamlReader.Child(measured, "step_time") is not null)
        {
            var seconds = reader.Quantity<Units.Duration>(measured, "step_time", "measured")?.Seconds;
            if (seconds <= 0)
            {
                // Errors are relative to the measurement: a zero step time has none.
                reader.Error(YamlReader.Child(measured, "step_time")!, "measured.step_time", $"{seconds} s is not a measured step time (expected a positive duration, such as 12.4 s)");
                return (MeasuredMetric.StepTime, null);
            }

            return (MeasuredMetric.StepTime, seconds);
        }

        if (YamlReader.Child(measured, "tokens_per_second_per_chip") is not null)
        {
            return (MeasuredMetric.TokensPerSecondPerChip, reader.Number(measured, "tokens_per_second_per_chip", "measured", 1e-9, 1e12));
        }

        if (YamlReader.Child(measured, "model_tflops_per_chip") is not null)
        {
            return (MeasuredMetric.ModelTflopsPerChip, reader.Number(measured, "model_tflops_per_chip", "measured", 1e-9, 1e9));
        }

        if (YamlReader.Child(measured, "model_tflops_per_chip_causal") is not null)
        {
            return (MeasuredMetric.ModelTflopsPerChipCausal, reader.Number(measured, "model_tflops_per_chip_causal", "measured", 1e-9, 1e9));
        }

        reader.Error(measured, "measured", "expected step_time, tokens_per_second_per_chip, model_tflops_per_chip or model_tflops_per_chip_causal");
        return (MeasuredMetric.StepTime, null);
    }
}
