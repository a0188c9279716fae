using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>
/// The energy of a step from what it does: every chip draws its idle floor for the whole step, plus energy per matrix
/// FLOP, per byte of memory traffic and per byte sent on links, capped at the chip's power limit; each system adds
/// its host and scale-up switches, the scale-out network its ports, the power supplies their losses and the facility
/// its cooling (docs/energy.md). The arithmetic is per system and per chip, so it does not grow with the cluster.
/// </summary>
public static class EnergyModel
{
    private enum Estimate
    {
        Central,
        Low,
        High,
    }

    /// <summary>Why the catalogue cannot price the energy of <paramref name="cluster"/>; null when it can.</summary>
    public static string? Missing(Cluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster.Chip.Power is null)
        {
            return $"the catalogue has no power model for the {cluster.Chip.Name} (catalog/chips/{cluster.Chip.Id}.yaml needs power: idle, matrix_energy, memory_energy and link_energy)";
        }

        return cluster.System.Overheads is null
            ? $"the catalogue has no host and facility power for the {cluster.System.Name} (catalog/systems/{cluster.System.Id}.yaml needs power: host, scale_up_switches, conversion_efficiency and pue)"
            : null;
    }

    /// <summary>
    /// The energy of <paramref name="step"/> on <paramref name="cluster"/> at <paramref name="precision"/>; null where
    /// <see cref="Missing"/> says why. With a <paramref name="band"/>, the range takes every coefficient at its low end
    /// with the band's fast end and at its high end with its slow end; without one (a search, which ranks by the
    /// central figure) the range is the central figure and costs nothing.
    /// </summary>
    /// <param name="cluster">The cluster.</param>
    /// <param name="precision">The matrix multiplies' precision.</param>
    /// <param name="step">What the step does.</param>
    /// <param name="band">The step time's low and high ends, or null for no range.</param>
    /// <param name="powerUsageEffectiveness">The facility's, overriding the system's typical one.</param>
    public static StepEnergy? Of(Cluster cluster, Precision precision, StepActivity step, (Duration Fastest, Duration Slowest)? band = null, double? powerUsageEffectiveness = null)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (Missing(cluster) is not null || step.StepTime.Seconds <= 0 || step.Tokens <= 0)
        {
            return null;
        }

        var central = Parts(cluster, precision, step, step.StepTime, Estimate.Central);
        var overheads = cluster.System.Overheads!;
        var (low, high) = band is { } given
            ? (Parts(cluster, precision, step, Duration.Min(given.Fastest, step.StepTime), Estimate.Low).It, Parts(cluster, precision, step, Duration.Max(given.Slowest, step.StepTime), Estimate.High).It)
            : (central.It, central.It);
        return new StepEnergy
        {
            AveragePowerPerChip = central.Chips.Total / central.Held / cluster.ChipCount,
            PowerLimit = cluster.Chip.Power!.Limit.Value,
            PowerLimited = central.Held > step.StepTime,
            Chips = central.Chips,
            Systems = central.Systems,
            Network = central.Network,
            ItPerStep = central.It,
            ItPerStepLow = low,
            ItPerStepHigh = high,
            PowerUsageEffectiveness = powerUsageEffectiveness ?? overheads.PowerUsageEffectiveness.Value,
            PowerUsageEffectivenessLow = powerUsageEffectiveness ?? overheads.PowerUsageEffectiveness.Lowest,
            PowerUsageEffectivenessHigh = powerUsageEffectiveness ?? overheads.PowerUsageEffectiveness.Highest,
            Tokens = step.Tokens,
            ModelWork = step.ModelWork,
            StepTime = central.Held,
            ChipCount = cluster.ChipCount,
        };
    }

    /// <summary>
    /// Energy per matrix FLOP at <paramref name="precision"/>: the catalogue's figure, else the nearest figure scaled by
    /// the ratio of peak rates (at equal utilization a chip draws about the same power whatever the format).
    /// </summary>
    public static Figure<EnergyPerFlop>? MatrixEnergy(Chip chip, Precision precision)
    {
        ArgumentNullException.ThrowIfNull(chip);
        if (chip.Power is not { } power)
        {
            return null;
        }

        if (power.MatrixEnergy.TryGetValue(precision, out var stated))
        {
            return stated;
        }

        var (nearest, figure) = power.MatrixEnergy.OrderBy(pair => Math.Abs((int)pair.Key - (int)precision)).First();
        if (chip.PeakRate(nearest) is not { } from || chip.PeakRate(precision) is not { } to)
        {
            return null;
        }

        var scale = from / to;
        return figure.Scaled(energy => energy * scale, $"the {nearest.Key()} figure times the ratio of peak rates ({nearest.Key()} over {precision.Key()})");
    }

    /// <summary>The step's energy at one estimate of the coefficients: chips, hosts and switches, network, and the IT total.</summary>
    private static (EnergyBreakdown Chips, Duration Held, Energy Systems, Energy Network, Energy It) Parts(Cluster cluster, Precision precision, StepActivity step, Duration time, Estimate estimate)
    {
        var overheads = cluster.System.Overheads!;
        var (chips, held) = ChipEnergy(cluster, precision, step, time, estimate);
        var systems = (At(overheads.Host, estimate) + At(overheads.ScaleUpSwitches, estimate)) * cluster.SystemCount * held;
        var network = NetworkPower(cluster, estimate) * held;
        // The more efficient the power supplies, the less energy: the low estimate takes the high efficiency.
        var conversion = estimate == Estimate.Low ? overheads.ConversionEfficiency.Highest : estimate == Estimate.High ? overheads.ConversionEfficiency.Lowest : overheads.ConversionEfficiency.Value;
        return (chips, held, systems, network, ((chips.Total + systems) / conversion) + network);
    }

    /// <summary>
    /// The chips' energy over a step of <paramref name="time"/>, and the time the chips are held for it. A chip that
    /// would average more than its power limit lowers its clocks until it does not: the same work and traffic, spread
    /// over the longer time at which idle plus work just meets the limit.
    /// </summary>
    private static (EnergyBreakdown Energy, Duration Held) ChipEnergy(Cluster cluster, Precision precision, StepActivity step, Duration time, Estimate estimate)
    {
        var power = cluster.Chip.Power!;
        var matrix = MatrixEnergy(cluster.Chip, precision) ?? power.MatrixEnergy.Values.First();
        // What the recipe keeps in BF16 costs BF16's energy per FLOP (where the chip states one).
        var bf16 = MatrixEnergy(cluster.Chip, Precision.Bf16) ?? matrix;
        var work = (At(matrix, estimate) * (step.HardwareWork - step.Bf16Work)) + (At(bf16, estimate) * step.Bf16Work);
        var memory = At(power.MemoryEnergy, estimate) * step.MemoryTraffic;
        var links = At(power.LinkEnergy, estimate) * step.LinkTraffic;
        var idlePower = At(power.Idle, estimate) * cluster.ChipCount;
        var headroom = (power.Limit.Value * cluster.ChipCount) - idlePower;
        var held = headroom > Power.Zero ? Duration.Max(time, (work + memory + links) / headroom) : time;
        return (new EnergyBreakdown(idlePower * held, work, memory, links), held);
    }

    /// <summary>
    /// The scale-out switch ports the cluster's traffic crosses, one port per chip at each end of each hop: a fabric
    /// of <c>t</c> tiers used puts <c>2t - 1</c> switch ports on a chip's path. A single system uses none.
    /// </summary>
    private static Power NetworkPower(Cluster cluster, Estimate estimate)
    {
        if (cluster.SystemCount <= 1 || cluster.Fabric.PortPower is not { } port)
        {
            return Power.Zero;
        }

        var tiers = 1;
        while (tiers < cluster.Fabric.Tiers.Length && cluster.Fabric.EndpointsUnderTier(tiers - 1) < cluster.ChipCount)
        {
            tiers++;
        }

        return At(port, estimate) * ((2 * tiers) - 1) * cluster.ChipCount;
    }

    private static T At<T>(Figure<T> figure, Estimate estimate)
        where T : struct => estimate switch
        {
            Estimate.Low => figure.Lowest,
            Estimate.High => figure.Highest,
            _ => figure.Value,
        };
}
