using System.Collections.Immutable;
using ClusterTwin.Catalog;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Validation;

/// <summary>
/// Reads a validation case: <c>id</c>, <c>source</c>, <c>measured</c> (the figures the source measured) and
/// <c>scenario</c> (the same fields as a scenario file: a training scenario, or a serving one). See <c>validation/README.md</c>.
/// </summary>
public static class ValidationCaseLoader
{
    /// <summary>Values that say yes or no where a reason belongs.</summary>
    private static readonly HashSet<string> NoReasons = new(["true", "false", "yes", "no", "on", "off"], StringComparer.OrdinalIgnoreCase);

    /// <summary>Loads every <c>*.yaml</c> case in <paramref name="directory"/>, sorted by file name, reporting the problems of every file at once.</summary>
    public static ValidationSet LoadAll(string directory, HardwareCatalog catalog)
    {
        var sets = new List<ValidationSet>();
        var problems = new List<Diagnostic>();
        foreach (var file in Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal))
        {
            try
            {
                sets.Add(LoadFile(file, catalog));
            }
            catch (InputException exception)
            {
                problems.AddRange(exception.Diagnostics);
            }
        }

        return problems.Count > 0 ? throw new InputException(problems) : ValidationSet.Concat(sets);
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a validation case file rather than a scenario: it has a <c>scenario</c>, which
    /// no scenario file has (the case loader then reports a missing or misspelled <c>measured</c>). False for a file
    /// that cannot be read, whose errors the scenario reader then reports.
    /// </summary>
    public static bool IsCaseFile(string path) =>
        File.Exists(path) && YamlReader.Open(path, path).Root is { } root && YamlReader.Child(root, "scenario") is not null;

    /// <summary>Loads one training case, or throws <see cref="InputException"/> with every problem (a serving case is one).</summary>
    public static ValidationCase Load(string path, HardwareCatalog catalog) =>
        LoadFile(path, catalog).Training.FirstOrDefault() ?? throw new InputException(path, "is a serving case (its scenario has a serving block): simulate reads training cases (validate --cases FOLDER compares serving cases)");

    /// <summary>
    /// Loads one case file as a set of one case: a training case, or a serving case when its scenario has a
    /// <c>serving</c> or <c>disaggregated</c> block; throws <see cref="InputException"/> with every problem.
    /// </summary>
    public static ValidationSet LoadFile(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = YamlReader.Open(path, path);
        ValidationSet? result = null;
        if (reader.Root is { } root)
        {
            reader.CheckKeys(root, string.Empty, "id", "source", "source_key", "measured", "scenario", "note", "not_fitted", "not_framework_fitted");
            var id = reader.String(root, "id", string.Empty);
            if (id is not null && id != Path.GetFileNameWithoutExtension(path))
            {
                // As in the catalogue: a case is found by its id, and a copy renamed without it would report under the old one.
                reader.Error(YamlReader.Child(root, "id"), "id", $"'{id}' differs from the file name (expected '{Path.GetFileNameWithoutExtension(path)}')");
            }

            var source = reader.String(root, "source", string.Empty);
            var sourceKey = reader.String(root, "source_key", string.Empty);
            var measured = reader.Mapping(root, "measured", string.Empty, required: true);
            var scenarioMap = reader.Mapping(root, "scenario", string.Empty, required: true);
            var name = id ?? Path.GetFileNameWithoutExtension(path);
            if (scenarioMap is not null && (YamlReader.Child(scenarioMap, "serving") ?? YamlReader.Child(scenarioMap, "disaggregated")) is not null)
            {
                var measurements = ReadServingMeasurements(reader, measured);
                var scenario = ScenarioLoader.ReadServing(reader, scenarioMap, "scenario", catalog, name, path);
                if (id is not null && source is not null && sourceKey is not null && measurements is { } figures && scenario is not null)
                {
                    result = new ValidationSet([], [new ServingValidationCase(id, source, sourceKey, scenario, figures)]);
                }
            }
            else
            {
                var (metric, value) = ReadMeasurement(reader, measured);
                var scenario = scenarioMap is null ? null : ScenarioLoader.Read(reader, scenarioMap, "scenario", catalog, name, "a validation case is a measured run on one kind of chip");
                if (id is not null && source is not null && sourceKey is not null && value is { } figure && scenario is not null)
                {
                    result = new ValidationSet([new ValidationCase(id, source, sourceKey, scenario, metric, figure)
                    {
                        NotFitted = Reason(reader, root, "not_fitted"),
                        NotFrameworkFitted = Reason(reader, root, "not_framework_fitted"),
                        PlanLocation = (path, (int)(YamlReader.Child(scenarioMap, "plan") ?? scenarioMap!).Start.Line),
                    }], []);
                }
            }
        }

        if (reader.Diagnostics.Count > 0 || result is null)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "validation case could not be read")]);
        }

        return result;
    }

    /// <summary>
    /// Why a case stays out of a fit (<c>not_fitted</c>, <c>not_framework_fitted</c>): text saying why, or null when the
    /// key is absent. A bare yes or no, or nothing, is an error: the key's presence is what keeps the case out.
    /// </summary>
    private static string? Reason(YamlReader reader, YamlMappingNode root, string key)
    {
        var reason = reader.String(root, key, string.Empty, required: false);
        if (reason is not null && (string.IsNullOrWhiteSpace(reason) || NoReasons.Contains(reason.Trim())))
        {
            reader.Error(YamlReader.Child(root, key), key, $"'{reason}' gives no reason (expected text saying why the case is kept out of the fit; leave the key out to fit it)");
            return null;
        }

        return reason;
    }

    /// <summary>A serving case's figures: throughputs per second, latencies as durations.</summary>
    private static ImmutableArray<ServingMeasurement>? ReadServingMeasurements(YamlReader reader, YamlMappingNode? measured)
    {
        if (measured is null)
        {
            return null;
        }

        reader.CheckKeys(measured, "measured", [.. ServingMeasures.ByKey.Keys]);
        var figures = ImmutableArray.CreateBuilder<ServingMeasurement>();
        foreach (var (key, measure) in ServingMeasures.ByKey)
        {
            if (YamlReader.Child(measured, key) is null)
            {
                continue;
            }

            var value = measure.IsThroughput()
                ? reader.Number(measured, key, "measured", 1e-9, 1e12)
                : reader.Quantity<Units.Duration>(measured, key, "measured")?.Seconds;
            if (value is { } positive && positive > 0 && double.IsFinite(positive))
            {
                figures.Add(new ServingMeasurement(measure, positive));
            }
            else if (value is not null)
            {
                reader.Error(YamlReader.Child(measured, key), $"measured.{key}", $"{value} is not a measurement (expected a positive figure, such as 25 ms or 3850)");
            }
        }

        if (figures.Count == 0)
        {
            reader.Error(measured, "measured", $"expected at least one of {string.Join(", ", ServingMeasures.ByKey.Keys)}");
            return null;
        }

        return figures.ToImmutable();
    }

    private static readonly string[] MeasuredFigures = ["step_time", "tokens_per_second_per_chip", "model_tflops_per_chip", "model_tflops_per_chip_causal"];

    private static (MeasuredMetric Metric, double? Value) ReadMeasurement(YamlReader reader, YamlMappingNode? measured)
    {
        if (measured is null)
        {
            return (MeasuredMetric.StepTime, null);
        }

        reader.CheckKeys(measured, "measured", MeasuredFigures);
        string[] figures = [.. MeasuredFigures.Where(key => YamlReader.Child(measured, key) is not null)];
        if (figures.Length > 1)
        {
            // One is compared; the others would be dropped without a word.
            reader.Error(measured, "measured", $"gives {string.Join(" and ", figures)}: give the one figure the source measured (a case compares one)");
        }

        if (YamlReader.Child(measured, "step_time") is not null)
        {
            var seconds = reader.Quantity<Units.Duration>(measured, "step_time", "measured", range: Catalog.PlausibleRange.StepTime)?.Seconds;
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
