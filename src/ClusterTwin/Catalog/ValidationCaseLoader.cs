namespace ClusterTwin.Catalog;

/// <summary>
/// Reads a validation case: <c>id</c>, <c>source</c>, <c>measured</c> (the figure the source measured) and
/// <c>scenario</c> (the same fields as a scenario file). See <c>docs/validation-cases.md</c>.
/// </summary>
public static class ValidationCaseLoader
{
    /// <summary>Loads every <c>*.yaml</c> case in <paramref name="directory"/>, sorted by file name.</summary>
    public static IReadOnlyList<ValidationCase> LoadAll(string directory, HardwareCatalog catalog) =>
        [.. Directory.GetFiles(directory, "*.yaml").Order(StringComparer.Ordinal).Select(file => Load(file, catalog))];

    /// <summary>Loads one case, or throws <see cref="InputException"/> with every problem.</summary>
    public static ValidationCase Load(string path, HardwareCatalog catalog)
    {
        var reader = YamlReader.Open(path, path);
        ValidationCase? result = null;
        if (reader.Root is { } root)
        {
            reader.CheckKeys(root, string.Empty, "id", "source", "measured", "scenario", "note");
            var id = reader.String(root, "id", string.Empty);
            var source = reader.String(root, "source", string.Empty);
            var measured = reader.Mapping(root, "measured", string.Empty, required: true);
            reader.CheckKeys(measured ?? new(), "measured", "step_time");
            var stepTime = reader.Quantity<Units.Duration>(measured, "step_time", "measured");
            var scenarioMap = reader.Mapping(root, "scenario", string.Empty, required: true);
            var scenario = scenarioMap is null ? null : ScenarioLoader.Read(reader, scenarioMap, "scenario", catalog, id ?? Path.GetFileNameWithoutExtension(path));
            if (id is not null && source is not null && stepTime is { } time && scenario is not null)
            {
                result = new ValidationCase(id, source, scenario, time);
            }
        }

        if (reader.Diagnostics.Count > 0 || result is null)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "validation case could not be read")]);
        }

        return result;
    }
}
