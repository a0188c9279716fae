namespace ClusterTwin.Units;

/// <summary>
/// The operators that cross quantities: work over rate is time, power over time is energy.
/// </summary>
/// <remarks>
/// C# lets an operator live on either operand's type; they are gathered here as extension operators so that the
/// quantity files stay uniform and every cross-quantity rule can be read in one place.
/// </remarks>
#pragma warning disable CA1708 // The analyzer mistakes the compiler-named extension blocks for members that differ by case.
public static class UnitAlgebra
{
    extension(Flops)
    {
        /// <summary>The time to do <paramref name="work"/> at <paramref name="rate"/>.</summary>
        public static Duration operator /(Flops work, FlopRate rate) => Duration.FromSeconds(work.Operations / rate.OperationsPerSecond);

        /// <summary>The rate that does <paramref name="work"/> in <paramref name="time"/>.</summary>
        public static FlopRate operator /(Flops work, Duration time) => FlopRate.FromOperationsPerSecond(work.Operations / time.Seconds);
    }

    extension(Bytes)
    {
        /// <summary>The time to move <paramref name="size"/> at <paramref name="rate"/>.</summary>
        public static Duration operator /(Bytes size, Bandwidth rate) => Duration.FromSeconds(size.Count / rate.BytesPerSecond);

        /// <summary>The bandwidth that moves <paramref name="size"/> in <paramref name="time"/>.</summary>
        public static Bandwidth operator /(Bytes size, Duration time) => Bandwidth.FromBytesPerSecond(size.Count / time.Seconds);
    }

    extension(FlopRate)
    {
        /// <summary>The work done at <paramref name="rate"/> for <paramref name="time"/>.</summary>
        public static Flops operator *(FlopRate rate, Duration time) => Flops.FromOperations(rate.OperationsPerSecond * time.Seconds);
    }

    extension(Bandwidth)
    {
        /// <summary>The data moved at <paramref name="rate"/> for <paramref name="time"/>.</summary>
        public static Bytes operator *(Bandwidth rate, Duration time) => Bytes.FromCount(rate.BytesPerSecond * time.Seconds);
    }

    extension(Power)
    {
        /// <summary>The energy used at <paramref name="power"/> for <paramref name="time"/>.</summary>
        public static Energy operator *(Power power, Duration time) => Energy.FromJoules(power.Watts * time.Seconds);
    }

    extension(EnergyPerFlop)
    {
        /// <summary>The energy of doing <paramref name="work"/> at <paramref name="cost"/> per operation.</summary>
        public static Energy operator *(EnergyPerFlop cost, Flops work) => Energy.FromJoules(cost.JoulesPerOperation * work.Operations);
    }

    extension(EnergyPerByte)
    {
        /// <summary>The energy of moving <paramref name="size"/> at <paramref name="cost"/> per byte.</summary>
        public static Energy operator *(EnergyPerByte cost, Bytes size) => Energy.FromJoules(cost.JoulesPerByte * size.Count);
    }

    extension(MoneyRate)
    {
        /// <summary>What <paramref name="price"/> costs over <paramref name="time"/>.</summary>
        public static Money operator *(MoneyRate price, Duration time) => Money.FromDollars(price.DollarsPerSecond * time.Seconds);
    }

    extension(EnergyPrice)
    {
        /// <summary>What <paramref name="energy"/> costs at <paramref name="price"/>.</summary>
        public static Money operator *(EnergyPrice price, Energy energy) => Money.FromDollars(price.DollarsPerJoule * energy.Joules);
    }

    extension(Money)
    {
        /// <summary>The rate that spends <paramref name="amount"/> in <paramref name="time"/>.</summary>
        public static MoneyRate operator /(Money amount, Duration time) => MoneyRate.FromDollarsPerSecond(amount.Dollars / time.Seconds);
    }

    extension(Energy)
    {
        /// <summary>The average power that uses <paramref name="energy"/> in <paramref name="time"/>.</summary>
        public static Power operator /(Energy energy, Duration time) => Power.FromWatts(energy.Joules / time.Seconds);

        /// <summary>The time <paramref name="power"/> takes to deliver <paramref name="energy"/>.</summary>
        public static Duration operator /(Energy energy, Power power) => Duration.FromSeconds(energy.Joules / power.Watts);
    }
}
