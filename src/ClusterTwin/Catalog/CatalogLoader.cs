using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;

namespace ClusterTwin.Catalog;

/// <summary>
/// Loads <c>catalog/</c>: sources first, then chips, systems (which name chips), fabrics, models, efficiency
/// curves and prices (which name systems). Every problem in every file is gathered; loading fails once, with all of them.
/// </summary>
public static class CatalogLoader
{
    /// <summary>Loads the catalogue in <paramref name="directory"/>, or throws <see cref="InputException"/> listing every problem.</summary>
    public static HardwareCatalog Load(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new InputException(directory, "catalogue folder not found (expected a folder with chips/, systems/, fabrics/, models/, efficiency/ and sources/)");
        }

        var diagnostics = new List<Diagnostic>();
        var sources = new SortedDictionary<string, SourceCitation>(StringComparer.Ordinal);
        foreach (var reader in Files(directory, "sources", diagnostics))
        {
            foreach (var citation in SourceReader.Read(reader))
            {
                if (!sources.TryAdd(citation.Id, citation))
                {
                    diagnostics.Add(new Diagnostic(reader.File, 0, citation.Id, "source id defined twice (each id must be unique across catalog/sources/)"));
                }
            }

            diagnostics.AddRange(reader.Diagnostics);
        }

        var sourceIds = sources.Keys.ToHashSet(StringComparer.Ordinal);
        var chips = Entities(directory, "chips", diagnostics, reader => ChipReader.Read(reader, sourceIds), chip => chip.Id);
        var chipFiles = FileIds(directory, "chips");
        var systems = Entities(directory, "systems", diagnostics, reader => SystemReader.Read(reader, sourceIds, chips, chipFiles), system => system.Id);
        foreach (var system in systems.Values)
        {
            foreach (var other in system.SharesDomainWith.Where(other => !systems.ContainsKey(other)))
            {
                diagnostics.Add(new Diagnostic(Path.Combine(directory, "systems", system.Id + ".yaml"), 0, "scale_up.shares_domain_with", $"unknown system '{other}' (expected one of: {string.Join(", ", systems.Keys.Order(StringComparer.Ordinal))})"));
            }
        }

        var fabrics = Entities(directory, "fabrics", diagnostics, reader => FabricReader.Read(reader, sourceIds), fabric => fabric.Id);
        var models = Entities(directory, "models", diagnostics, reader => ModelReader.Read(reader, reader.Root, string.Empty), model => model.Id);
        var frameworks = Entities(directory, "frameworks", diagnostics, FrameworkReader.Read, framework => framework.Id);
        var trainingFrameworks = System.IO.Directory.Exists(Path.Combine(directory, TrainingFrameworksFolder))
            ? Entities(directory, TrainingFrameworksFolder, diagnostics, TrainingFrameworkReader.Read, framework => framework.Id)
            : [];
        var vendors = chips.Values.Select(chip => chip.Vendor).ToHashSet(StringComparer.Ordinal);
        foreach (var framework in trainingFrameworks.Values)
        {
            foreach (var unknown in framework.DefaultForVendors.Where(vendor => !vendors.Contains(vendor)))
            {
                diagnostics.Add(new Diagnostic(Path.Combine(directory, TrainingFrameworksFolder, framework.Id + ".yaml"), 0, "default_for_vendors",
                    $"'{unknown}' is no chip's vendor (expected one of: {string.Join(", ", vendors.Order(StringComparer.Ordinal))}, as the chip files write them)"));
            }
        }

        foreach (var vendor in trainingFrameworks.Values.SelectMany(framework => framework.DefaultForVendors.Distinct().Select(vendor => (vendor, framework.Id))).GroupBy(pair => pair.vendor).Where(group => group.Count() > 1))
        {
            diagnostics.Add(new Diagnostic(Path.Combine(directory, TrainingFrameworksFolder), 0, "default_for_vendors",
                $"vendor '{vendor.Key}' is the default of several frameworks ({string.Join(", ", vendor.Select(pair => pair.Id).Order(StringComparer.Ordinal))}); expected one"));
        }

        var read = Entities(directory, "efficiency", diagnostics, EfficiencyReader.Read, efficiency => efficiency.Family);
        var efficiencies = EfficiencyReader.CarryOver(read, diagnostics, directory);
        foreach (var (family, efficiency) in efficiencies.Where(pair => pair.Value.CurvesChip is not null).ToArray())
        {
            var owner = efficiency.CarriedOverFrom is null || efficiency.OwnCurves.Contains("matrix");
            var chipFile = Path.Combine(directory, "chips", efficiency.CurvesChip + ".yaml");
            if (chips.TryGetValue(efficiency.CurvesChip!, out var reference))
            {
                if (reference.PeakRate(Precision.Bf16) is { } peak)
                {
                    efficiencies[family] = efficiency with { CurvesPeak = peak, CurvesBandwidth = reference.MemoryBandwidth.Value };
                }
                else if (owner && !diagnostics.Any(diagnostic => diagnostic.File == chipFile))
                {
                    diagnostics.Add(new Diagnostic(Path.Combine(directory, "efficiency", family + ".yaml"), 0, "reference_chip",
                        $"'{efficiency.CurvesChip}' has no BF16 peak, which the curves' operations are counted at (name a chip with peak_rates.bf16)"));
                }
            }
            else if (owner && !File.Exists(chipFile))
            {
                // A chip file that failed to load has said why already.
                diagnostics.Add(new Diagnostic(Path.Combine(directory, "efficiency", family + ".yaml"), 0, "reference_chip",
                    $"'{efficiency.CurvesChip}' is not a chip of the catalogue (expected a chip id, as catalog/chips/ names them)"));
            }
        }

        // A chip file that failed to load has said why already.
        foreach (var efficiency in efficiencies.Values.Where(efficiency => efficiency.MeasuredOn is not null && (chips.ContainsKey(efficiency.MeasuredOn) || !chipFiles.Contains(efficiency.MeasuredOn))))
        {
            if (!chips.TryGetValue(efficiency.MeasuredOn!, out var measured) || measured.Family != efficiency.Family)
            {
                diagnostics.Add(new Diagnostic(Path.Combine(directory, "efficiency", efficiency.Family + ".yaml"), 0, "kernels.chip",
                    $"'{efficiency.MeasuredOn}' is not a chip of the {efficiency.Family} family (expected one of: {string.Join(", ", chips.Values.Where(chip => chip.Family == efficiency.Family).Select(chip => chip.Id).Order(StringComparer.Ordinal))})"));
            }
        }

        var prices = PriceCatalog.Empty;
        var systemFiles = FileIds(directory, "systems");
        if (System.IO.Directory.Exists(Path.Combine(directory, "prices")))
        {
            foreach (var reader in Files(directory, "prices", diagnostics))
            {
                prices = reader.Root is null ? prices : PriceReader.Read(reader, sourceIds, systems, systemFiles, prices);
                diagnostics.AddRange(reader.Diagnostics);
            }

            diagnostics.AddRange(PriceReader.Problems(prices, Path.Combine(directory, "prices")));
        }

        var reliability = ReadReliability(directory, sourceIds, chips.Values.Select(chip => chip.Family).ToHashSet(StringComparer.Ordinal), diagnostics);
        if (!efficiencies.TryGetValue(HardwareCatalog.DefaultFamily, out var fallback))
        {
            // One read whose carry-over failed has its error at its own file already.
            if (!read.ContainsKey(HardwareCatalog.DefaultFamily))
            {
                diagnostics.Add(new Diagnostic(Path.Combine(directory, "efficiency"), 0, string.Empty, $"missing {HardwareCatalog.DefaultFamily}.yaml (the curves for chip families without their own)"));
            }
        }
        else
        {
            // A family whose file was read but whose carry-over failed has its error already: its chips are not unknown.
            diagnostics.AddRange(FamilyProblems(directory, chips.Values.Where(chip => efficiencies.ContainsKey(chip.Family) || !read.ContainsKey(chip.Family)), efficiencies, fallback.ServesFamilies));
        }

        if (diagnostics.Count > 0)
        {
            throw new InputException(diagnostics);
        }

        return new HardwareCatalog
        {
            Directory = directory,
            Chips = chips.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Systems = systems.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Fabrics = fabrics.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Models = models.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Efficiencies = efficiencies.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Sources = sources.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Prices = prices,
            Frameworks = frameworks.ToImmutableSortedDictionary(StringComparer.Ordinal),
            TrainingFrameworks = trainingFrameworks.ToImmutableSortedDictionary(StringComparer.Ordinal),
            Reliability = reliability,
        };
    }

    /// <summary>The optional <c>reliability/</c> folder's one file; null where the folder is absent or its file fails (its errors added).</summary>
    private static Reliability.ReliabilityCatalog? ReadReliability(string directory, ISet<string> sources, ISet<string> families, List<Diagnostic> diagnostics)
    {
        var folder = Path.Combine(directory, ReliabilityReader.Folder);
        if (!System.IO.Directory.Exists(folder))
        {
            return null;
        }

        var readers = Files(directory, ReliabilityReader.Folder, diagnostics).ToArray();
        if (readers.Length != 1)
        {
            diagnostics.Add(new Diagnostic(folder, 0, string.Empty, $"holds {readers.Length} files (expected one, with the interruptions list and the recovery block)"));
            return null;
        }

        var reader = readers[0];
        var reliability = reader.Root is null ? null : ReliabilityReader.Read(reader, sources, families);
        diagnostics.AddRange(reader.Diagnostics);
        return reliability;
    }

    /// <summary>The optional folder of training frameworks.</summary>
    public const string TrainingFrameworksFolder = "training-frameworks";

    /// <summary>Finds the catalogue: the given folder, else a <c>catalog/</c> beside or above the working folder or the program.</summary>
    public static string Locate(string? explicitDirectory)
    {
        if (explicitDirectory is not null)
        {
            return explicitDirectory;
        }

        foreach (var start in new[] { System.IO.Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            {
                var candidate = Path.Combine(folder.FullName, "catalog");
                if (System.IO.Directory.Exists(Path.Combine(candidate, "chips")))
                {
                    return candidate;
                }
            }
        }

        return Path.Combine(System.IO.Directory.GetCurrentDirectory(), "catalog");
    }

    /// <summary>The ids of a catalogue folder's files (their names), whether or not each loaded.</summary>
    private static HashSet<string> FileIds(string directory, string folder) =>
        System.IO.Directory.Exists(Path.Combine(directory, folder))
            ? System.IO.Directory.GetFiles(Path.Combine(directory, folder), "*.yaml").Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : [];

    private static Dictionary<string, T> Entities<T>(string directory, string folder, List<Diagnostic> diagnostics, Func<YamlReader, T?> read, Func<T, string> idOf)
        where T : class
    {
        var entities = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var reader in Files(directory, folder, diagnostics))
        {
            var entity = reader.Root is null ? null : read(reader);
            diagnostics.AddRange(reader.Diagnostics);
            if (entity is null)
            {
                continue;
            }

            var expected = Path.GetFileNameWithoutExtension(reader.File);
            if (idOf(entity) != expected)
            {
                diagnostics.Add(new Diagnostic(reader.File, 0, "id", $"'{idOf(entity)}' differs from the file name (expected '{expected}')"));
            }
            else
            {
                entities[expected] = entity;
            }
        }

        return entities;
    }

    private static IEnumerable<YamlReader> Files(string directory, string folder, List<Diagnostic> diagnostics)
    {
        var path = Path.Combine(directory, folder);
        if (!System.IO.Directory.Exists(path))
        {
            diagnostics.Add(new Diagnostic(path, 0, string.Empty, "folder missing from the catalogue"));
            yield break;
        }

        foreach (var file in System.IO.Directory.GetFiles(path, "*.yaml").Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(System.IO.Directory.GetCurrentDirectory(), file);
            yield return YamlReader.Open(file, relative.StartsWith("..", StringComparison.Ordinal) ? Path.GetFullPath(file) : relative);
        }
    }

    /// <summary>
    /// A chip's family must have curves of its own or be one the default curves serve (default.yaml's <c>families</c>),
    /// so that a misspelt family is reported rather than run at the default curves; and a family the default file
    /// lists must not have its own file as well.
    /// </summary>
    private static IEnumerable<Diagnostic> FamilyProblems(string directory, IEnumerable<Chip> chips, IReadOnlyDictionary<string, ChipEfficiency> efficiencies, IReadOnlyCollection<string> served)
    {
        var defaultFile = Path.Combine(directory, "efficiency", HardwareCatalog.DefaultFamily + ".yaml");
        foreach (var family in served.Where(efficiencies.ContainsKey))
        {
            yield return new Diagnostic(defaultFile, 0, "families", $"'{family}' has an efficiency file of its own: remove it from the families the default curves serve");
        }

        foreach (var chip in chips.Where(chip => !efficiencies.ContainsKey(chip.Family) && !served.Contains(chip.Family)).OrderBy(chip => chip.Id, StringComparer.Ordinal))
        {
            var known = efficiencies.Keys.Where(key => key != HardwareCatalog.DefaultFamily).Concat(served).Order(StringComparer.Ordinal);
            yield return new Diagnostic(Path.Combine(directory, "chips", chip.Id + ".yaml"), 0, "family",
                $"'{chip.Family}' is not a chip family of the catalogue (expected one of: {string.Join(", ", known)}; a new family without curves of its own is added to {HardwareCatalog.DefaultFamily}.yaml's families)");
        }
    }
}
