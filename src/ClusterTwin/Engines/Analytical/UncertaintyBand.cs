using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// The range a measured step time is expected to fall in, from two sources: how far measured runs of the chip
/// family fell from the calibrated model (the 10th and 90th percentiles of ln(measured / predicted), widened for a
/// family that borrows another's calibration, and for a mixture of experts no narrower than its training framework's
/// fitted runs), and the spread of uncertain figures: each published alternative value of a hardware figure, the
/// other reading of a link bandwidth whose direction the vendor left unstated, and for a mixture of experts whose
/// host launches bind, the spread of the launch times its framework's fitted runs want (<see cref="ExpertLaunchSpread"/>),
/// and for one that permutes its tokens without fused kernels, the range of its framework's timed unfused routing
/// (<see cref="UnfusedTokenRoutingRange"/>).
/// </summary>
/// <remarks>
/// Each alternative is applied alone and the step recomputed; the band takes the fastest and slowest of
/// them on top of the residual percentiles. The percentiles come from the fitted cases, so a held-out measurement
/// should fall inside about 80% of the time; <c>clustertwin validate</c> reports how often it does.
/// </remarks>
internal static class UncertaintyBand
{
    public static (Duration Low, Duration High, ImmutableArray<string> Sources, BandParts Parts) Of(Scenario scenario, Duration step)
    {
        var efficiency = scenario.Efficiency;
        var widening = efficiency.BandWidening;
        var sources = ImmutableArray.CreateBuilder<string>();
        sources.Add(efficiency.Fit.Cases > 0
            ? $"residuals of {efficiency.Fit.Cases} measured runs fitted for {efficiency.LevelsFrom}" +
              (widening > 1
                  ? efficiency.HasOwnFit
                      ? $", widened {widening:0.#}x because {scenario.Cluster.Chip.Family} borrows {Borrowed(efficiency)} from {efficiency.CarriedOverFrom}"
                      : $", widened {widening:0.#}x because {scenario.Cluster.Chip.Family} has no measured runs of its own"
                  : string.Empty)
            : "no calibration: a step 30% either way");

        var (fastest, slowest) = (1.0, 1.0);
        void Stretch(string name, Scenario variant, bool listedWhenUnchanged)
        {
            // The engine's step against the engine's step: throttling is taken once, by the caller, over the band.
            var ratio = AnalyticalEngine.SimulateStep(variant).UnthrottledStepTime / step;
            if (double.IsFinite(ratio) && ratio > 0 && (listedWhenUnchanged || Math.Abs(ratio - 1) > 1e-12))
            {
                (fastest, slowest) = (Math.Min(fastest, ratio), Math.Max(slowest, ratio));
                sources.Add($"{name}: {ratio - 1:+0.0%;-0.0%;0.0%}");
            }
        }

        // A hardware alternative is listed even where it changes nothing; the launch times and routing factors only where
        // they move the step.
        foreach (var (name, variant) in HardwareAlternatives(scenario))
        {
            Stretch(name, variant, listedWhenUnchanged: true);
        }

        foreach (var (name, variant) in LaunchAlternatives(scenario).Concat(RoutingAlternatives(scenario)))
        {
            Stretch(name, variant, listedWhenUnchanged: false);
        }

        // A mixture of experts also carries the spread of the runs its framework's launch times were fitted on, where
        // that is wider: the expert layer's host costs are less certain than the dense kernels the family levels fit.
        var (residualLow, residualHigh) = (efficiency.Fit.ResidualLow * widening, efficiency.Fit.ResidualHigh * widening);
        if (scenario.Model.MixtureOfExperts is not null && scenario.Framework.Fit is { ResidualLow: { } frameworkLow, ResidualHigh: { } frameworkHigh } fit)
        {
            (residualLow, residualHigh) = (Math.Min(residualLow, frameworkLow), Math.Max(residualHigh, frameworkHigh));
            sources.Add($"residuals of {fit.Figures} mixture-of-experts runs fitted for {scenario.Framework.Name}'s launch times");
        }

        // So does a plan without full recompute under a framework whose slowdown without recompute is fitted.
        if (AnalyticalEngine.NoRecomputeSlowdown(scenario) is not null && scenario.Framework.NoRecomputeFit is { ResidualLow: { } slowdownLow, ResidualHigh: { } slowdownHigh } slowdownFit)
        {
            (residualLow, residualHigh) = (Math.Min(residualLow, slowdownLow), Math.Max(residualHigh, slowdownHigh));
            sources.Add($"residuals of {slowdownFit.Figures} runs without recompute fitted for {scenario.Framework.Name}'s slowdown without recompute");
        }

        var low = step * Math.Exp(residualLow) * fastest;
        var high = step * Math.Exp(residualHigh) * slowest;
        var parts = new BandParts(Math.Min(0, residualLow), Math.Max(0, residualHigh), fastest, slowest, scenario.Cluster.Chip.Family, efficiency.LevelsFrom,
            Math.Min(0, efficiency.Fit.ResidualLow), Math.Max(0, efficiency.Fit.ResidualHigh));
        return (low, high, sources.ToImmutable(), parts);
    }

    // The curves a family takes from the one it carries over from: all of them, or those it did not measure.
    private static string Borrowed(ChipEfficiency efficiency)
    {
        var borrowed = ChipEfficiency.CurveKeys.Where(curve => !efficiency.OwnCurves.Contains(curve)).Select(curve => curve.Replace('_', ' ')).ToArray();
        return borrowed.Length == ChipEfficiency.CurveKeys.Count ? "its curve shapes" : $"its {string.Join(" and ", borrowed)} curve{(borrowed.Length > 1 ? "s" : string.Empty)}";
    }

    private static IEnumerable<(string Name, Scenario Variant)> HardwareAlternatives(Scenario scenario)
    {
        var system = scenario.Cluster.System;
        var chip = system.Chip;
        var link = system.ScaleUpBandwidth;
        foreach (var alternative in link.Alternatives)
        {
            yield return ($"scale-up bandwidth {alternative.Stated} instead of {link.Value.Stated}", WithSystem(scenario, system with { ScaleUpBandwidth = link.WithValue(alternative) }));
        }

        if (link.Value.Direction == LinkDirection.Unstated)
        {
            var oneWay = link.Value with { Direction = LinkDirection.Unidirectional };
            yield return ($"scale-up {link.Value.Stated} read as per direction", WithSystem(scenario, system with { ScaleUpBandwidth = link.WithValue(oneWay) }));
        }

        if (system.ScaleOutBandwidth is { } scaleOut)
        {
            foreach (var alternative in scaleOut.Alternatives)
            {
                yield return ($"scale-out {alternative} per chip", WithSystem(scenario, system with { ScaleOutBandwidth = scaleOut.WithValue(alternative) }));
            }
        }

        if (system.HostLink is { } hostLink && scenario.Plan.OffloadedLayers > 0)
        {
            foreach (var alternative in hostLink.Alternatives)
            {
                yield return ($"host link {alternative} per chip", WithSystem(scenario, system with { HostLink = hostLink.WithValue(alternative) }));
            }

            foreach (var alternative in system.HostMemoryBandwidth?.Alternatives ?? [])
            {
                yield return ($"host memory bandwidth {alternative}", WithSystem(scenario, system with { HostMemoryBandwidth = system.HostMemoryBandwidth!.WithValue(alternative) }));
            }
        }

        foreach (var alternative in chip.MemoryBandwidth.Alternatives)
        {
            yield return ($"memory bandwidth {alternative}", WithSystem(scenario, system with { Chip = chip with { MemoryBandwidth = chip.MemoryBandwidth.WithValue(alternative) } }));
        }

        if (chip.PeakRates.TryGetValue(scenario.Job.Precision, out var peak))
        {
            foreach (var alternative in peak.Alternatives)
            {
                var rates = chip.PeakRates.SetItem(scenario.Job.Precision, peak.WithValue(alternative));
                yield return ($"peak {alternative}", WithSystem(scenario, system with { Chip = chip with { PeakRates = rates } }));
            }
        }
    }

    // The framework's launch times at the two ends of its fitted runs' spread, for a mixture of experts launched per
    // expert (a launch time charged): listed where either end moves the step.
    private static IEnumerable<(string Name, Scenario Variant)> LaunchAlternatives(Scenario scenario)
    {
        var framework = scenario.Framework;
        if (scenario.Model.MixtureOfExperts is null || framework.ExpertLaunchSpread is not { } spread || framework.ExpertLaunchFor(scenario.Job) <= Duration.Zero)
        {
            yield break;
        }

        foreach (var factor in new[] { spread.Low, spread.High })
        {
            yield return ($"expert launch times {factor:0.00}x (P10-P90 of the {spread.Runs} runs they bind in the fit of {framework.Id})", scenario with { Framework = framework.WithExpertLaunchesScaled(factor) });
        }
    }

    // A run without fused permutation kernels at its framework's range of unfused routing factors: the fastest timed
    // shape, and the router in FP32, which its recipe may run without saying.
    private static IEnumerable<(string Name, Scenario Variant)> RoutingAlternatives(Scenario scenario)
    {
        var framework = scenario.Framework;
        if (scenario.Model.MixtureOfExperts is null || scenario.Job.FusedTokenPermutation || framework.UnfusedTokenRoutingRange is not { } range)
        {
            yield break;
        }

        yield return ($"unfused token routing {range.Low:0.00}x (the fastest timed shape of {framework.Id}'s)", scenario with { Framework = framework with { UnfusedTokenRouting = range.Low } });
        yield return ($"unfused token routing {range.High:0.00}x (the router in FP32)", scenario with { Framework = framework with { UnfusedTokenRouting = range.High } });
    }

    private static Scenario WithSystem(Scenario scenario, AcceleratorSystem system) =>
        scenario with { Cluster = scenario.Cluster with { System = system } };
}
