using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Workloads;

namespace ClusterTwin.Catalog;

/// <summary>Everything loaded from <c>catalog/</c>, by id.</summary>
public sealed record HardwareCatalog
{
    /// <summary>The folder it was loaded from.</summary>
    public required string Directory { get; init; }

    /// <summary>Chips by id.</summary>
    public required ImmutableSortedDictionary<string, Chip> Chips { get; init; }

    /// <summary>Systems by id.</summary>
    public required ImmutableSortedDictionary<string, AcceleratorSystem> Systems { get; init; }

    /// <summary>Scale-out fabrics by id.</summary>
    public required ImmutableSortedDictionary<string, Fabric> Fabrics { get; init; }

    /// <summary>Model architectures by id.</summary>
    public required ImmutableSortedDictionary<string, ModelArchitecture> Models { get; init; }

    /// <summary>Efficiency curves by chip family; the <c>default</c> entry serves families without their own.</summary>
    public required ImmutableSortedDictionary<string, ChipEfficiency> Efficiencies { get; init; }

    /// <summary>Citations by source id.</summary>
    public required ImmutableSortedDictionary<string, SourceCitation> Sources { get; init; }

    /// <summary>Rental, purchase and electricity prices; empty in a catalogue without <c>prices/</c>.</summary>
    public PriceCatalog Prices { get; init; } = PriceCatalog.Empty;

    /// <summary>Serving frameworks by id: their default settings and fitted overheads.</summary>
    public ImmutableSortedDictionary<string, Serving.ServingFramework> Frameworks { get; init; } = ImmutableSortedDictionary<string, Serving.ServingFramework>.Empty;

    /// <summary>Training frameworks by id: what their software adds to the kernels' roofline.</summary>
    public ImmutableSortedDictionary<string, TrainingFramework> TrainingFrameworks { get; init; } = ImmutableSortedDictionary<string, TrainingFramework>.Empty;

    /// <summary>Interruption, restart and checkpoint figures; null in a catalogue without <c>reliability/</c>.</summary>
    public Reliability.ReliabilityCatalog? Reliability { get; init; }

    /// <summary>The family key of the curves used when a family has none of its own.</summary>
    public const string DefaultFamily = "default";

    /// <summary>The efficiency curves for a chip: its family's, or the default ones.</summary>
    public ChipEfficiency EfficiencyFor(Chip chip) =>
        Efficiencies.TryGetValue(chip.Family, out var own) ? own : Efficiencies[DefaultFamily];

    /// <summary>The training framework a scenario on <paramref name="chip"/> runs on when it names none: its vendor's default, or none.</summary>
    public TrainingFramework TrainingFrameworkFor(Chip chip)
    {
        ArgumentNullException.ThrowIfNull(chip);
        return TrainingFrameworks.Values.FirstOrDefault(framework => framework.DefaultForVendors.Contains(chip.Vendor)) ?? TrainingFramework.None;
    }
}
