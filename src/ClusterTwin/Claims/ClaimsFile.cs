using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Claims;

/// <summary>
/// A claims file (<c>claims/aws-trainium.yaml</c>): each claim as published with what its ratio compares, and the
/// workloads to run on each system at equal chip count (docs/claims.md).
/// </summary>
/// <param name="Name">What the claims are about.</param>
/// <param name="Claims">The claims.</param>
/// <param name="Chips">The chip count every system is compared at.</param>
/// <param name="Subject">The system the claims favour.</param>
/// <param name="Baseline">The system they compare it with.</param>
/// <param name="Systems">Every system the workloads run on.</param>
/// <param name="Workloads">The workloads' scenario files, resolved against the claims file's folder.</param>
public sealed record ClaimsFile(string Name, ImmutableArray<Claim> Claims, long Chips, AcceleratorSystem Subject, AcceleratorSystem Baseline, ImmutableArray<AcceleratorSystem> Systems, ImmutableArray<string> Workloads)
{
    private static readonly Dictionary<string, ClaimMetric> Metrics = Enum.GetValues<ClaimMetric>().ToDictionary(Key, StringComparer.Ordinal);

    /// <summary>The metric's key in a claims file (<c>peak-fp8-per-watt</c>).</summary>
    public static string Key(ClaimMetric metric) =>
        string.Concat(metric.ToString().Select((letter, index) => char.IsUpper(letter) && index > 0 ? "-" + char.ToLowerInvariant(letter) : char.ToLowerInvariant(letter).ToString()));

    /// <summary>Reads <paramref name="path"/> against <paramref name="catalog"/>, or throws <see cref="InputException"/> with every problem.</summary>
    public static ClaimsFile Load(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        if (!File.Exists(path))
        {
            throw new InputException(path, "claims file not found (expected a file such as claims/aws-trainium.yaml)");
        }

        var reader = YamlReader.Open(path, path);
        var root = reader.Root ?? throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "claims file could not be read")]);
        reader.CheckKeys(root, string.Empty, "name", "claims", "comparison", "note");
        var name = reader.String(root, "name", string.Empty);
        var sources = catalog.Sources.Keys.ToHashSet(StringComparer.Ordinal);
        var claims = ImmutableArray.CreateBuilder<Claim>();
        if (YamlReader.Child(root, "claims") is YamlSequenceNode list)
        {
            foreach (var entry in list.OfType<YamlMappingNode>())
            {
                if (ReadClaim(reader, entry, sources, catalog) is { } claim)
                {
                    if (claims.Any(earlier => earlier.Id == claim.Id))
                    {
                        reader.Error(YamlReader.Child(entry, "id"), $"claims[{claim.Id}].id", $"'{claim.Id}' is also an earlier claim's id (expected one id per claim)");
                    }

                    claims.Add(claim);
                }
            }
        }
        else
        {
            reader.Error(root, "claims", "missing (expected a list of claims)");
        }

        var comparison = reader.Mapping(root, "comparison", string.Empty, required: true);
        reader.CheckKeys(comparison ?? new YamlMappingNode(), "comparison", "chips", "subject", "baseline", "systems", "workloads", "note");
        var chips = reader.Integer(comparison, "chips", "comparison", 1, 10_000_000);
        var subject = SystemOf(reader, comparison, "subject", catalog);
        var baseline = SystemOf(reader, comparison, "baseline", catalog);
        var systems = Strings(reader, comparison, "systems").Select(id => catalog.Systems.GetValueOrDefault(id) ?? Unknown(reader, comparison!, id, catalog)).OfType<AcceleratorSystem>().ToImmutableArray();
        // Each system runs the comparison's chips in whole systems.
        foreach (var system in systems.Where(system => chips is { } total && total % system.Chips.Value != 0))
        {
            reader.Error(YamlReader.Child(comparison, "chips"), "comparison.chips", $"{chips} chips is not a whole number of {system.Id}'s {system.Chips.Value}-chip systems (expected a multiple of every system's size)");
        }

        foreach (var end in new[] { subject, baseline }.OfType<AcceleratorSystem>().Where(end => !systems.Contains(end)))
        {
            reader.Error(comparison, "comparison.systems", $"must include the subject and the baseline ({end.Id} is missing)");
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        var workloads = Strings(reader, comparison, "workloads").Select(file => Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Combine(folder, file))).ToImmutableArray();
        foreach (var missing in workloads.Where(file => !File.Exists(file)))
        {
            reader.Error(comparison, "comparison.workloads", $"'{missing}' not found");
        }

        if (reader.Diagnostics.Count > 0 || name is null || chips is null || subject is null || baseline is null)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "claims file could not be read")]);
        }

        return new ClaimsFile(name, claims.ToImmutable(), chips.Value, subject, baseline, systems, workloads);
    }

    private static Claim? ReadClaim(YamlReader reader, YamlMappingNode entry, HashSet<string> sources, HardwareCatalog catalog)
    {
        var id = reader.String(entry, "id", "claims[]");
        var field = $"claims[{id}]";
        reader.CheckKeys(entry, field, "id", "statement", "source", "status", "published", "metric", "subject", "baseline", "note");
        var statement = reader.String(entry, "statement", field);
        var source = reader.String(entry, "source", field);
        if (source is not null && !sources.Contains(source))
        {
            reader.Error(YamlReader.Child(entry, "source"), $"{field}.source", $"unknown source '{source}' (define it in catalog/sources/)");
        }

        var status = reader.Enumeration(entry, "status", field, YamlReader.FigureStatuses, required: false) ?? FigureStatus.Official;
        var published = reader.Number(entry, "published", field, 1e-3, 1e6);
        var metric = reader.Enumeration(entry, "metric", field, Metrics);
        var subject = reader.String(entry, "subject", field);
        var baseline = reader.String(entry, "baseline", field);
        foreach (var (key, value) in new[] { ("subject", subject), ("baseline", baseline) })
        {
            if (value is not null && !catalog.Systems.ContainsKey(value) && !catalog.Chips.ContainsKey(value))
            {
                reader.Error(YamlReader.Child(entry, key), $"{field}.{key}", $"'{value}' is neither a catalogue chip nor a system");
            }
        }

        if (subject is not null && subject == baseline)
        {
            reader.Error(YamlReader.Child(entry, "baseline"), $"{field}.baseline", $"'{baseline}' is also the subject: a claim compares one chip or system with another");
        }

        if (subject is not null && baseline is not null && catalog.Systems.ContainsKey(subject) != catalog.Systems.ContainsKey(baseline))
        {
            reader.Error(entry, $"{field}.baseline", "compares a system with a chip: subject and baseline must both be systems or both chips");
        }

        return id is null || statement is null || source is null || published is null || metric is null || subject is null || baseline is null
            ? null
            : new Claim(id, statement, source, status, published.Value, metric.Value, subject, baseline, reader.String(entry, "note", field, required: false));
    }

    private static AcceleratorSystem? SystemOf(YamlReader reader, YamlMappingNode? map, string key, HardwareCatalog catalog)
    {
        var id = reader.String(map, key, "comparison");
        return id is null ? null : catalog.Systems.GetValueOrDefault(id) ?? Unknown(reader, map!, id, catalog);
    }

    private static AcceleratorSystem? Unknown(YamlReader reader, YamlMappingNode map, string id, HardwareCatalog catalog)
    {
        reader.Error(map, "comparison", $"unknown system '{id}' (expected one of: {string.Join(", ", catalog.Systems.Keys)})");
        return null;
    }

    private static string[] Strings(YamlReader reader, YamlMappingNode? map, string key)
    {
        if (YamlReader.Child(map, key) is YamlSequenceNode list)
        {
            return list.Select(YamlReader.Scalar).OfType<string>().ToArray();
        }

        reader.Error(map, $"comparison.{key}", "missing (expected a list)");
        return [];
    }
}
