using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Claims;

/// <summary>A claim's ratio as the catalogue's specifications give it, per chip and, where the claim compares systems, per system.</summary>
/// <param name="Claim">The claim.</param>
/// <param name="PerChip">Subject over baseline per chip; null for a metric the catalogue has no figure for.</param>
/// <param name="PerSystem">Subject over baseline per system; null where the claim compares chips.</param>
/// <param name="Low">Low end, where an uncertain figure (a power limit) widens it.</param>
/// <param name="High">High end.</param>
/// <param name="Status">The least trusted status among the figures used (a projection for Trainium4).</param>
/// <param name="Reading">How the ratio was worked out, in words.</param>
public sealed record SpecificationRatio(Claim Claim, double? PerChip, double? PerSystem, double? Low, double? High, FigureStatus Status, string Reading)
{
    /// <summary>The ratio at the claim's level: per system where it compares systems, else per chip.</summary>
    public double? AtClaimLevel => PerSystem ?? PerChip;

    /// <summary>Works out <paramref name="claim"/>'s ratio from <paramref name="catalog"/>.</summary>
    public static SpecificationRatio Of(Claim claim, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(catalog);
        var (subjectChip, subjectChips) = Resolve(claim.Subject, catalog);
        var (baselineChip, baselineChips) = Resolve(claim.Baseline, catalog);
        if (claim.Metric == ClaimMetric.Scale)
        {
            return new SpecificationRatio(claim, null, null, null, null, claim.Status, "no catalogue figure compares this claim; it is about scale, which the simulator shows by running it (examples/llama3-405b-trainium3-1m.yaml) with the interruptions a million chips meet (docs/reliability-at-scale.md)");
        }

        var subject = Measure(claim.Metric, subjectChip);
        var baseline = Measure(claim.Metric, baselineChip);
        if (subject is null || baseline is null)
        {
            var lacking = subject is null ? subjectChip : baselineChip;
            return new SpecificationRatio(claim, null, null, null, null, claim.Status, $"the catalogue has no {Words(claim.Metric)} for the {lacking.Name}");
        }

        var perChip = subject.Value.Value / baseline.Value.Value;
        var systems = catalog.Systems.ContainsKey(claim.Subject);
        var chipsRatio = subjectChips / (double)baselineChips;
        // A rate or a capacity adds up over a system's chips; a rate per watt does not, and a system's watts include
        // its hosts, switches and power supplies' losses.
        var additive = claim.Metric != ClaimMetric.PeakFp8PerWatt;
        var scale = !systems ? 1 : additive ? chipsRatio : SystemPowerShare(catalog.Systems[claim.Baseline]) / SystemPowerShare(catalog.Systems[claim.Subject]);
        var perSystem = systems ? perChip * scale : (double?)null;
        var (mine, theirs) = (subject.Value, baseline.Value);
        var status = mine.Status > theirs.Status ? mine.Status : theirs.Status;
        var reading = systems && additive
            ? $"{subjectChips} x {Format(mine.Value, claim.Metric)} over {baselineChips} x {Format(theirs.Value, claim.Metric)}; per chip {perChip:0.00}x"
            : $"{Format(mine.Value, claim.Metric)} over {Format(theirs.Value, claim.Metric)} per chip" + (systems ? $"; per system, with hosts, switches and conversion losses, {perChip * scale:0.00}x" : string.Empty);
        return new SpecificationRatio(claim, perChip, perSystem, mine.Low / theirs.High * scale, mine.High / theirs.Low * scale, status, reading);
    }

    private static (Chip Chip, int Chips) Resolve(string id, HardwareCatalog catalog) =>
        catalog.Systems.TryGetValue(id, out var system) ? (system.Chip, system.Chips.Value)
        : catalog.Chips.TryGetValue(id, out var chip) ? (chip, 1)
        : throw new InputException(id, "a claim names neither a catalogue chip nor a system");

    private static (double Value, double Low, double High, FigureStatus Status)? Measure(ClaimMetric metric, Chip chip)
    {
        static (double, double, double, FigureStatus)? Of<T>(Figure<T>? figure, Func<T, double> value)
            where T : struct => figure is null ? null : (value(figure.Value), value(figure.Value), value(figure.Value), figure.Status);
        return metric switch
        {
            ClaimMetric.PeakFp8 => Of(chip.PeakRates.GetValueOrDefault(Precision.Fp8), rate => rate.OperationsPerSecond),
            ClaimMetric.PeakBf16 => Of(chip.PeakRates.GetValueOrDefault(Precision.Bf16), rate => rate.OperationsPerSecond),
            ClaimMetric.PeakFp4 => Of(chip.PeakRates.GetValueOrDefault(Precision.Fp4), rate => rate.OperationsPerSecond),
            ClaimMetric.MemoryCapacity => Of(chip.MemoryCapacity, size => size.Count),
            ClaimMetric.MemoryBandwidth => Of(chip.MemoryBandwidth, rate => rate.BytesPerSecond),
            ClaimMetric.ScaleUpBandwidth => Of(chip.ScaleUpBandwidth, link => link.PerDirection.BytesPerSecond),
            ClaimMetric.PeakFp8PerWatt when chip.PeakRates.GetValueOrDefault(Precision.Fp8) is { } rate && chip.ThermalDesignPower is { } limit =>
                (rate.Value.OperationsPerSecond / limit.Value.Watts, rate.Value.OperationsPerSecond / limit.Highest.Watts, rate.Value.OperationsPerSecond / limit.Lowest.Watts,
                    rate.Status > limit.Status ? rate.Status : limit.Status),
            _ => null,
        };
    }

    /// <summary>A system's power at its chips' limits over its chips' power alone: what its hosts, switches and conversion add.</summary>
    private static double SystemPowerShare(AcceleratorSystem system)
    {
        var chips = (system.Chip.ThermalDesignPower?.Value ?? Units.Power.Zero) * system.Chips.Value;
        if (system.Overheads is not { } overheads || chips <= Units.Power.Zero)
        {
            return 1;
        }

        return (chips + overheads.Host.Value + overheads.ScaleUpSwitches.Value) / overheads.ConversionEfficiency.Value / chips;
    }

    /// <summary>The metric as words in a sentence.</summary>
    public static string Words(ClaimMetric metric) => metric switch
    {
        ClaimMetric.PeakFp8 => "FP8 peak rate",
        ClaimMetric.PeakBf16 => "BF16 peak rate",
        ClaimMetric.PeakFp4 => "FP4 peak rate",
        ClaimMetric.MemoryCapacity => "memory capacity",
        ClaimMetric.MemoryBandwidth => "memory bandwidth",
        ClaimMetric.ScaleUpBandwidth => "scale-up bandwidth",
        ClaimMetric.PeakFp8PerWatt => "FP8 peak rate or power limit",
        _ => "scale figure",
    };

    private static string Format(double value, ClaimMetric metric) => metric switch
    {
        ClaimMetric.PeakFp8 or ClaimMetric.PeakBf16 or ClaimMetric.PeakFp4 => FlopRate.FromOperationsPerSecond(value).ToString(),
        ClaimMetric.MemoryCapacity => Bytes.FromCount(value).ToString(),
        ClaimMetric.MemoryBandwidth or ClaimMetric.ScaleUpBandwidth => Bandwidth.FromBytesPerSecond(value).ToString(),
        ClaimMetric.PeakFp8PerWatt => $"{value / 1e12:0.00} TFLOPS/W",
        _ => value.ToString("G4", System.Globalization.CultureInfo.InvariantCulture),
    };
}
