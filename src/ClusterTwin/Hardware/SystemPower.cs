namespace ClusterTwin.Hardware;

/// <summary>
/// What a system draws besides its chips, and what its facility adds: host processors, memory, network adapters,
/// storage, fans and board, the scale-up switches, the power supplies' losses and the facility's cooling (docs/energy.md).
/// </summary>
public sealed record SystemPower
{
    /// <summary>The whole system's non-accelerator power while a job runs (processors, memory, adapters, storage, fans, board).</summary>
    public required Figure<Units.Power> Host { get; init; }

    /// <summary>Scale-up switches, switch trays, optics and circuit switches of the whole system; zero where the chips link directly.</summary>
    public required Figure<Units.Power> ScaleUpSwitches { get; init; }

    /// <summary>The fraction of the power drawn from the wall that reaches the system's components (power supplies, rack shelves).</summary>
    public required Figure<double> ConversionEfficiency { get; init; }

    /// <summary>The power usage effectiveness of the facility a deployment of this system typically runs in: facility power over IT power.</summary>
    public required Figure<double> PowerUsageEffectiveness { get; init; }
}
