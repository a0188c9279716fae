using ClusterTwin.Units;

namespace ClusterTwin.Catalog;

/// <summary>
/// The values a figure of one kind can take on real hardware, with a wide margin on either side. A figure outside
/// them is a typo or a unit slip ("1e-300 TFLOPS", "1e300 MiB"), and would carry on into a time or a cost of zero
/// or infinity, so the readers refuse it where it is written.
/// </summary>
/// <param name="Lowest">The lowest plausible value, in the quantity's base unit.</param>
/// <param name="Highest">The highest plausible value, in the quantity's base unit.</param>
/// <param name="Description">The range as a user writes it ("1 ns to 1 s").</param>
internal sealed record PlausibleRange(double Lowest, double Highest, string Description)
{
    /// <summary>A peak rate: from a microcontroller's 1 GFLOPS to a million PFLOPS.</summary>
    public static PlausibleRange FlopRate { get; } = new(1e9, 1e21, "1 GFLOPS to 1000000 PFLOPS");

    /// <summary>A memory, link or network bandwidth: from 1 Mb/s to 1 PB/s.</summary>
    public static PlausibleRange Bandwidth { get; } = new(1e6 / 8, 1e15, "1 Mb/s to 1 PB/s");

    /// <summary>A memory capacity: from 1 MB to 1 PB.</summary>
    public static PlausibleRange Capacity { get; } = new(1e6, 1e15, "1 MB to 1 PB");

    /// <summary>A link's or a switch's latency: from 1 ns to 1 s.</summary>
    public static PlausibleRange Latency { get; } = new(1e-9, 1, "1 ns to 1 s");

    /// <summary>A chip's, a port's or a system's power: from 0.1 W to 100 MW.</summary>
    public static PlausibleRange Power { get; } = new(0.1, 1e8, "0.1 W to 100 MW");

    /// <summary>The energy of one operation: from 0.001 pJ to 1 nJ.</summary>
    public static PlausibleRange EnergyPerFlop { get; } = new(1e-15, 1e-9, "0.001 pJ/FLOP to 1 nJ/FLOP");

    /// <summary>The energy of moving one byte: from 0.01 pJ to 10 nJ.</summary>
    public static PlausibleRange EnergyPerByte { get; } = new(1e-14, 1e-8, "0.01 pJ/B to 10 nJ/B");

    /// <summary>A training run's deadline: from a minute to a century.</summary>
    public static PlausibleRange Deadline { get; } = new(60, 100 * 365.25 * 86400, "1 min to 36525 d");

    /// <summary>Chip-time between job interruptions: from an hour to ten million years of one chip.</summary>
    public static PlausibleRange ChipTimeBetweenInterruptions { get; } = new(3600, 1e7 * 365.25 * 86400, "1 h to ten million years, 87,660,000,000 h");

    /// <summary>A restart, a checkpoint's overhead or the time between checkpoints: from a second to a week.</summary>
    public static PlausibleRange Recovery { get; } = new(1, 7 * 86400, "1 s to 7 d");

    /// <summary>A server's time away in repair or replacement: a minute (a swap from the shelf) to a year.</summary>
    public static PlausibleRange Repair { get; } = new(60, 365 * 86400, "1 min to 365 d");

    /// <summary>A purchase price: from $1 to $10B.</summary>
    public static PlausibleRange Money { get; } = new(1, 1e10, "1 USD to 10000000000 USD");

    /// <summary>An hourly price: from a tenth of a cent to a million dollars an hour.</summary>
    public static PlausibleRange MoneyRate { get; } = new(0.001 / 3600, 1e6 / 3600, "0.001 USD/h to 1000000 USD/h");

    /// <summary>An electricity price: from a tenth of a cent to ten dollars a kWh.</summary>
    public static PlausibleRange EnergyPrice { get; } = new(0.001 / 3.6e6, 10 / 3.6e6, "0.001 USD/kWh to 10 USD/kWh");

    /// <summary>A serving framework's host time per layer of a forward pass: the fitted ones are about 100 us; at most 100 ms.</summary>
    public static PlausibleRange LayerOverhead { get; } = new(0, 0.1, "0 to 100 ms");

    /// <summary>A serving framework's host time per request: the fitted ones are up to tens of milliseconds; at most 60 s.</summary>
    public static PlausibleRange RequestOverhead { get; } = new(0, 60, "0 to 60 s");

    /// <summary>A measured training step: from a microsecond to thirty days.</summary>
    public static PlausibleRange StepTime { get; } = new(1e-6, 30 * 86400, "1 us to 30 d");

    /// <summary>A serving latency objective (time to first token, time per output token): from a microsecond to a day.</summary>
    public static PlausibleRange LatencyObjective { get; } = new(1e-6, 86400, "1 us to 1 d");

    /// <summary>The range of a catalogue figure of quantity <typeparamref name="T"/>, or null for a quantity no catalogue figure is written in.</summary>
    public static PlausibleRange? For<T>()
        where T : struct, IQuantity<T> => typeof(T) switch
        {
            var type when type == typeof(Units.FlopRate) => FlopRate,
            var type when type == typeof(Units.Bandwidth) => Bandwidth,
            var type when type == typeof(Bytes) => Capacity,
            var type when type == typeof(Duration) => Latency,
            var type when type == typeof(Units.Power) => Power,
            var type when type == typeof(Units.EnergyPerFlop) => EnergyPerFlop,
            var type when type == typeof(Units.EnergyPerByte) => EnergyPerByte,
            var type when type == typeof(Units.Money) => Money,
            var type when type == typeof(Units.MoneyRate) => MoneyRate,
            var type when type == typeof(Units.EnergyPrice) => EnergyPrice,
            _ => null,
        };

    /// <summary>Whether <paramref name="baseValue"/> lies in the range.</summary>
    public bool Holds(double baseValue) => baseValue >= Lowest && baseValue <= Highest;
}
