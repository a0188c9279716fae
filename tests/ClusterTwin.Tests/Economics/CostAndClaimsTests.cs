using ClusterTwin.Catalog;
using ClusterTwin.Claims;
using ClusterTwin.Economics;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Planning;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Economics;

public class CostAndClaimsTests
{
    private static readonly ClaimsFile Claims = ClaimsFile.Load(Repository.Path("claims", "aws-trainium.yaml"), Repository.Catalog);

    [Fact]
    public void RentalCost_IsThePricePerChipHour_TimesChipsAndTime()
    {
        var result = AnalyticalEngine.Simulate(Repository.Example("gpt3-175b-h100-1024"));
        var cost = result.Cost!;
        Assert.Equal(CostBasis.Rental, cost.Basis);
        Assert.Equal(cost.PerChipHour.DollarsPerSecond * result.Chips * result.StepTime.Seconds, cost.PerStep.Dollars, 1e-9 * cost.PerStep.Dollars);
        Assert.Equal(cost.PerStep.Dollars / result.TokensPerStep * 1e6, cost.PerMillionTokens.Dollars, 1e-9 * cost.PerMillionTokens.Dollars);
        Assert.True(cost.PerStepLow <= cost.PerStep && cost.PerStep <= cost.PerStepHigh);
    }

    [Fact]
    public void ClustersOfPartSystems_RentEachSystemsWholeInstance()
    {
        // 4 UltraServers using 128 of their 144 Trainium3 each rent 4 UltraServers: 576 chips, not the 512 used rounded
        // up to whole instances over the cluster (4 instances of 144 hold 576; 512 / 144 rounds up to 4 as well, so a
        // count where the two differ: 64 of them, 64 x 144 against 57 x 144).
        using var folder = new TemporaryFolder();
        var scenario = ScenarioLoader.Load(folder.Write("part.yaml", """
            cluster: {system: aws-trn3-gen2-ultraserver, chips_per_system: 128, count: 64, fabric: aws-efa-ultracluster}
            model: llama3-70b
            training: {sequence_length: 8192, global_batch: 2048}
            plan: {tensor: 8, pipeline: 1, data: 1024}
            """), Repository.Catalog);
        var result = AnalyticalEngine.Simulate(scenario);
        var cost = result.Cost!;
        var rented = cost.PerStep.Dollars / (cost.PerChipHour.DollarsPerSecond * result.StepTime.Seconds);
        Assert.Equal(64 * 144, rented, 1e-6 * rented);
        Assert.Equal(8192, result.Chips);
    }

    [Fact]
    public void DefaultPrices_OfSystemsOneProviderPrices_AreThatProvidersOnDemandPrices()
    {
        // AWS prices on demand the most chips of the catalogue: H100, H200 and B200 compared by default are all AWS's
        // (they had been Google Cloud's, Azure's and AWS's: the cheapest of the most recent).
        var prices = Repository.Catalog.Prices;
        var onDemand = prices.Rentals.Where(price => price.Offering == PriceOffering.OnDemand).ToArray();
        var chipsBy = onDemand.Where(price => price.Price.Status is FigureStatus.Official or FigureStatus.Reported && price.Provider != PriceCatalog.UnstatedProvider)
            .GroupBy(price => price.Provider).ToDictionary(group => group.Key, group => group.Select(price => price.Chip).Distinct().Count());
        Assert.Equal(chipsBy.MaxBy(pair => pair.Value).Key, prices.ReferenceProvider);
        Assert.Equal("AWS", prices.ReferenceProvider);
        foreach (var system in new[] { "nvidia-dgx-h100", "nvidia-hgx-h200", "nvidia-dgx-b200" })
        {
            var settings = ScenarioCost.ForSystem(new CostSettings(), Repository.Catalog.Systems[system], prices);
            Assert.Equal(("AWS", PriceOffering.OnDemand), (settings.Rental!.Provider, settings.Rental.Offering));
            var latest = onDemand.Where(price => price.System == system && price.Provider == "AWS").Max(price => price.Date);
            Assert.Equal(latest, settings.Rental.Date);
        }

        // A system the reference provider does not price keeps the most recent, cheapest on-demand price.
        var gb200 = ScenarioCost.ForSystem(new CostSettings(), Repository.Catalog.Systems["nvidia-gb200-nvl72"], prices).Rental!;
        Assert.NotEqual("AWS", gb200.Provider);
        Assert.Equal(onDemand.Where(price => price.System == "nvidia-gb200-nvl72").MinBy(price => price.PerChip.DollarsPerSecond)!.Id, gb200.Id);
    }

    [Fact]
    public void OwnerCost_IsTheAmortisedPurchase_PlusTheFacilityElectricity()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var prices = Repository.Catalog.Prices;
        var capital = prices.Capital.First(price => price.System == "nvidia-dgx-h100");
        var settings = scenario.Cost! with { Basis = CostBasis.Owner, Capital = capital, Electricity = prices.DefaultElectricity, LifetimeYears = 5, Utilization = 0.8, Missing = null };
        var result = AnalyticalEngine.Simulate(scenario with { Cost = settings });
        var hours = 5 * 365.25 * 24 * 0.8;
        var ownership = capital.PerChip.Dollars / hours * result.Chips * (result.StepTime.Seconds / 3600);
        var electricity = prices.DefaultElectricity!.Price.Value.DollarsPerJoule * result.Energy!.FacilityPerStep.Joules;
        Assert.Equal(ownership + electricity, result.Cost!.PerStep.Dollars, 1e-9 * result.Cost.PerStep.Dollars);
        Assert.Equal(electricity, result.Cost.Electricity.Dollars, 1e-9 * electricity);
    }

    [Fact]
    public void AnUnknownPriceId_IsAClearError()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("bad.yaml", File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")) + "\ncost:\n  price: no-such-price\n");
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(path, Repository.Catalog));
        Assert.Contains("cost.price", error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown price 'no-such-price'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APriceOfAnotherSystem_IsRefused()
    {
        var other = Repository.Catalog.Prices.Rentals.First(price => price.System != "nvidia-dgx-h100");
        using var folder = new TemporaryFolder();
        var path = folder.Write("bad.yaml", File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")) + $"\ncost:\n  price: {other.Id}\n");
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(path, Repository.Catalog));
        Assert.Contains($"prices {other.System}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AFacilityPue_OverridesTheSystems()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("pue.yaml", File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")) + "\nfacility:\n  pue: 1.5\n");
        var energy = AnalyticalEngine.Simulate(ScenarioLoader.Load(path, Repository.Catalog)).Energy!;
        Assert.Equal(1.5, energy.PowerUsageEffectiveness);
        Assert.Equal(energy.ItPerStep.Joules * 1.5, energy.FacilityPerStep.Joules, 1e-6);
    }

    [Theory]
    [InlineData("C1", 144 * 2517.0 / (64 * 1299.0))]
    [InlineData("C2", 2517.0 / 1299.0)]
    [InlineData("C2-bf16", 671.0 / 667.0)]
    [InlineData("C3", 144 * 144.0 / (64 * 96.0))]
    [InlineData("C8-fp8", 3.0)]
    [InlineData("C8-fp4", 6.0)]
    [InlineData("C12-fp8", 1299.0 / 190.0)]
    public void SpecificationRatios_ReproduceTheCatalogue(string id, double expected)
    {
        var ratio = SpecificationRatio.Of(Claims.Claims.Single(claim => claim.Id == id), Repository.Catalog);
        Assert.Equal(expected, ratio.AtClaimLevel!.Value, 1e-3);
    }

    [Fact]
    public void MemoryClaim_IsOneAndAHalfPerChip_ThreeAndAFractionPerUltraServer()
    {
        var ratio = SpecificationRatio.Of(Claims.Claims.Single(claim => claim.Id == "C3"), Repository.Catalog);
        Assert.Equal(1.5, ratio.PerChip!.Value, 1e-9);
        Assert.Equal(3.375, ratio.PerSystem!.Value, 1e-9);
    }

    [Fact]
    public void EnergyEfficiencyClaim_CarriesTheUncertainPowerLimits()
    {
        var ratio = SpecificationRatio.Of(Claims.Claims.Single(claim => claim.Id == "C5"), Repository.Catalog);
        Assert.True(ratio.Low < ratio.PerChip && ratio.PerChip < ratio.High, "no Trainium power is published: the ratio must carry a range");
        Assert.NotEqual(Hardware.FigureStatus.Official, ratio.Status);
    }

    [Fact]
    public void AScaleClaim_HasNoSpecificationRatio()
    {
        var ratio = SpecificationRatio.Of(Claims.Claims.Single(claim => claim.Id == "C6"), Repository.Catalog);
        Assert.Null(ratio.AtClaimLevel);
    }

    [Fact]
    public void EnergyObjective_RanksByEnergyPerStep()
    {
        var planning = ScenarioLoader.LoadForPlanning(Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml"), Repository.Catalog);
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 5, threads: 1, objective: PlanObjective.Energy);
        var energies = search.Plans.Select(plan => PlanSearch.Score(plan.Result, PlanObjective.Energy)).ToArray();
        Assert.Equal(energies.Order(), energies);
        var byTime = PlanSearch.Run(planning.Scenario, planning.Pins, top: 1, threads: 1);
        Assert.True(energies[0] <= PlanSearch.Score(byTime.Plans[0].Result, PlanObjective.Energy));
    }
}
