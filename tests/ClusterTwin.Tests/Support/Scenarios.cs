using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;
using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Support;

/// <summary>Variations of catalogue scenarios for property tests.</summary>
internal static class Scenarios
{
    public static Scenario WithScaleUpBandwidth(this Scenario scenario, double factor)
    {
        var system = scenario.Cluster.System;
        var link = system.ScaleUpBandwidth.Value;
        var faster = system with { ScaleUpBandwidth = system.ScaleUpBandwidth.WithValue(link with { Stated = link.Stated * factor }) };
        return scenario with { Cluster = scenario.Cluster with { System = faster } };
    }

    public static Scenario WithScaleOutBandwidth(this Scenario scenario, double factor)
    {
        var system = scenario.Cluster.System;
        var faster = system with { ScaleOutBandwidth = system.ScaleOutBandwidth!.WithValue(system.ScaleOutBandwidth.Value * factor) };
        return scenario with { Cluster = scenario.Cluster with { System = faster } };
    }

    public static Scenario WithMemoryBandwidth(this Scenario scenario, double factor)
    {
        var chip = scenario.Cluster.Chip;
        var faster = chip with { MemoryBandwidth = chip.MemoryBandwidth.WithValue(chip.MemoryBandwidth.Value * factor) };
        return scenario with { Cluster = scenario.Cluster with { System = scenario.Cluster.System with { Chip = faster } } };
    }

    public static Scenario WithPeakRate(this Scenario scenario, double factor)
    {
        var chip = scenario.Cluster.Chip;
        var rates = chip.PeakRates.ToImmutableSortedDictionary(pair => pair.Key, pair => pair.Value.WithValue(pair.Value.Value * factor));
        var faster = chip with { PeakRates = rates };
        return scenario with { Cluster = scenario.Cluster with { System = scenario.Cluster.System with { Chip = faster } } };
    }

    public static Scenario WithPlan(this Scenario scenario, Func<ParallelPlan, ParallelPlan> change) =>
        scenario with { Plan = change(scenario.Plan) };

    public static Duration StepTime(this Scenario scenario) => ClusterTwin.Engines.Analytical.AnalyticalEngine.Simulate(scenario).StepTime;
}
