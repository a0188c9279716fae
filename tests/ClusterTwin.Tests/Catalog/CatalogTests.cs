using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Catalog;

public class CatalogTests
{
    [Fact]
    public void Catalog_LoadsEveryFile_WithoutProblems()
    {
        var catalog = Repository.Catalog;
        Assert.Equal(Directory.GetFiles(Repository.Path("catalog", "chips"), "*.yaml").Length, catalog.Chips.Count);
        Assert.Equal(Directory.GetFiles(Repository.Path("catalog", "systems"), "*.yaml").Length, catalog.Systems.Count);
        Assert.Equal(Directory.GetFiles(Repository.Path("catalog", "fabrics"), "*.yaml").Length, catalog.Fabrics.Count);
        Assert.Equal(Directory.GetFiles(Repository.Path("catalog", "models"), "*.yaml").Length, catalog.Models.Count);
    }

    [Theory]
    [InlineData("aws-trainium1")]
    [InlineData("aws-trainium2")]
    [InlineData("aws-trainium3")]
    [InlineData("aws-trainium4")]
    [InlineData("aws-inferentia2")]
    [InlineData("nvidia-a100-sxm-80gb")]
    [InlineData("nvidia-h100-sxm")]
    [InlineData("nvidia-h200-sxm")]
    [InlineData("nvidia-b200")]
    [InlineData("nvidia-b300")]
    [InlineData("nvidia-gb200")]
    [InlineData("nvidia-gb300")]
    [InlineData("google-tpu-v4")]
    [InlineData("google-tpu-v5e")]
    [InlineData("google-tpu-v5p")]
    [InlineData("google-tpu-v6e")]
    [InlineData("google-tpu7x-ironwood")]
    [InlineData("amd-mi300x")]
    [InlineData("amd-mi325x")]
    [InlineData("amd-mi355x")]
    public void Chip_IsInTheCatalogue_WithSourcedPeakAndMemory(string id)
    {
        var chip = Repository.Catalog.Chips[id];
        Assert.NotEmpty(chip.PeakRates);
        Assert.All(chip.PeakRates.Values, rate => Assert.True(Repository.Catalog.Sources.ContainsKey(rate.Source), rate.Source));
        Assert.True(Repository.Catalog.Sources.ContainsKey(chip.MemoryCapacity.Source));
        Assert.True(chip.MemoryBandwidth.Value.BytesPerSecond > 0);
    }

    [Fact]
    public void Trainium4_IsAProjection_DerivedFromTrainium3()
    {
        var catalog = Repository.Catalog;
        var trainium4 = catalog.Chips["aws-trainium4"];
        var trainium3 = catalog.Chips["aws-trainium3"];
        Assert.Equal(ChipStatus.Announced, trainium4.Status);
        Assert.All(trainium4.PeakRates.Values, rate => Assert.Equal(FigureStatus.Projection, rate.Status));
        Assert.All(trainium4.PeakRates.Values, rate => Assert.False(string.IsNullOrWhiteSpace(rate.Derivation)));
        Within.Relative(3 * trainium3.PeakRate(Precision.Fp8)!.Value.OperationsPerSecond, trainium4.PeakRate(Precision.Fp8)!.Value.OperationsPerSecond, 1e-3);
        Within.Relative(4 * trainium3.MemoryBandwidth.Value.BytesPerSecond, trainium4.MemoryBandwidth.Value.BytesPerSecond, 1e-3);
    }

    [Theory]
    [InlineData("aws-trn1-32xlarge", 16)]
    [InlineData("aws-trn2-48xlarge", 16)]
    [InlineData("aws-trn2-ultraserver", 64)]
    [InlineData("aws-trn3-gen1-ultraserver", 64)]
    [InlineData("aws-trn3-gen2-ultraserver", 144)]
    [InlineData("nvidia-dgx-h100", 8)]
    [InlineData("nvidia-dgx-b200", 8)]
    [InlineData("nvidia-gb200-nvl72", 72)]
    [InlineData("nvidia-gb300-nvl72", 72)]
    [InlineData("google-tpu-v5p-slice-6144", 6144)]
    [InlineData("google-tpu-v5p-slice-128", 128)]
    [InlineData("google-tpu-v5p-slice-256", 256)]
    [InlineData("google-tpu-v5p-slice-512", 512)]
    [InlineData("google-tpu-v5p-slice-1024", 1024)]
    [InlineData("google-tpu-v5p-slice-2048", 2048)]
    [InlineData("google-tpu-v6e-slice-8", 8)]
    [InlineData("google-tpu-v6e-slice-32", 32)]
    [InlineData("google-tpu-v6e-slice-64", 64)]
    [InlineData("google-tpu-v6e-slice-128", 128)]
    [InlineData("google-tpu-v6e-pod", 256)]
    [InlineData("amd-mi355x-platform", 8)]
    public void System_HoldsItsChips_InATopologyOfTheSameSize(string id, int chips)
    {
        var system = Repository.Catalog.Systems[id];
        Assert.Equal(chips, system.Chips.Value);
        Assert.Equal(chips, system.Topology.Chips);
    }

    [Fact]
    public void Trainium3Bandwidth_Conflict_IsKeptAsAnAlternative()
    {
        var link = Repository.Catalog.Systems["aws-trn3-gen2-ultraserver"].ScaleUpBandwidth;
        Assert.NotEmpty(link.Alternatives);
        Assert.NotEqual(link.Value.Stated, link.Alternatives[0].Stated);
    }

    [Fact]
    public void RanksPerChip_CountsNeuronCores_AndMustBeAWholeNumber()
    {
        Assert.Equal(2, Repository.Catalog.Chips["aws-trainium1"].Ranks);
        Assert.Equal(4, Repository.Catalog.Chips["aws-trainium3"].Ranks);
        Assert.Equal(1, Repository.Catalog.Chips["nvidia-h100-sxm"].Ranks);
        var error = CatalogEdits.LoadWithChange("chips/aws-trainium1.yaml", "ranks_per_chip: {value: 2,", "ranks_per_chip: {value: 0,");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "ranks_per_chip.value" && diagnostic.Message.Contains("whole number from 1 to 64", StringComparison.Ordinal));
    }

    [Fact]
    public void EfaUltraClusterFabric_ReachesAMillionChips() =>
        Assert.True(Repository.Catalog.Fabrics["aws-efa-ultracluster"].MaximumEndpoints >= 1_000_000);

    [Theory]
    [InlineData("gpt3-175b", 175e9)]
    [InlineData("llama2-70b", 70e9)]
    [InlineData("llama3-8b", 8e9)]
    [InlineData("llama3-70b", 70e9)]
    [InlineData("llama3-405b", 405e9)]
    [InlineData("bloom-176b", 176e9)]
    [InlineData("megatron-22b", 22e9)]
    [InlineData("megatron-530b", 530e9)]
    [InlineData("megatron-1t", 1e12)]
    public void Model_ParameterCount_MatchesTheHeadline(string id, double headline) =>
        Within.Relative(headline, Repository.Catalog.Models[id].Parameters, 0.02);

    [Fact]
    public void Model_ParameterCount_MatchesEveryPublishedCount()
    {
        foreach (var model in Repository.Catalog.Models.Values.Where(model => model.PublishedParameters is not null))
        {
            Within.Relative(model.PublishedParameters!.Value, model.Parameters, 0.02);
        }
    }

    [Fact]
    public void Figure_WithoutSource_IsReportedWithFileAndLine()
    {
        using var folder = TemporaryFolder.WithCatalogCopy();
        var chip = Path.Combine(folder.Path, "chips", "nvidia-h100-sxm.yaml");
        File.WriteAllText(chip, File.ReadAllText(chip).Replace("bf16: {value: 989 TFLOPS, source: S25,", "bf16: {value: 989 TFLOPS,", StringComparison.Ordinal));
        var error = Assert.Throws<InputException>(() => CatalogLoader.Load(folder.Path));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.EndsWith("nvidia-h100-sxm.yaml", diagnostic.File, StringComparison.Ordinal);
        Assert.True(diagnostic.Line > 0);
        Assert.Equal("peak_rates.bf16.source", diagnostic.Field);
    }

    [Fact]
    public void Estimate_WithoutDerivation_IsRejected()
    {
        using var folder = TemporaryFolder.WithCatalogCopy();
        var system = Path.Combine(folder.Path, "systems", "nvidia-dgx-h100.yaml");
        var text = File.ReadAllText(system);
        var start = text.IndexOf("    derivation:", StringComparison.Ordinal);
        var end = text.IndexOf('\n', start);
        File.WriteAllText(system, text.Remove(start, end - start + 1));
        var error = Assert.Throws<InputException>(() => CatalogLoader.Load(folder.Path));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field.EndsWith("derivation", StringComparison.Ordinal) && diagnostic.Message.Contains("must say how", StringComparison.Ordinal));
    }

    [Fact]
    public void Catalog_GathersEveryProblem_BeforeFailing()
    {
        using var folder = TemporaryFolder.WithCatalogCopy();
        File.WriteAllText(Path.Combine(folder.Path, "chips", "broken-one.yaml"), "id: broken-one\nname: x\n");
        File.WriteAllText(Path.Combine(folder.Path, "fabrics", "broken-two.yaml"), "id: [not, text\n");
        var error = Assert.Throws<InputException>(() => CatalogLoader.Load(folder.Path));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.File.EndsWith("broken-one.yaml", StringComparison.Ordinal));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.File.EndsWith("broken-two.yaml", StringComparison.Ordinal) && diagnostic.Message.Contains("not valid YAML", StringComparison.Ordinal));
    }
}
