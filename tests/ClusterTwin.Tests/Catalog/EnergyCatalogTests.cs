using ClusterTwin.Catalog;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Catalog;

/// <summary>The power, price and range fields of the catalogue: bad values are reported where they are.</summary>
public class EnergyCatalogTests
{
    [Fact]
    public void ARangeThatDoesNotHoldItsValue_IsReported()
    {
        var error = CatalogEdits.LoadWithChange("chips/nvidia-h100-sxm.yaml", "range: [100 W, 145 W]", "range: [120 W, 145 W]");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("power.idle.range", diagnostic.Field);
        Assert.Contains("with the value between them", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnePowerCoefficientWithoutTheOthers_IsReported()
    {
        var error = CatalogEdits.LoadWithChange("chips/nvidia-h100-sxm.yaml", "  memory_energy:", "  unused_memory_energy:");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "power.memory_energy" && diagnostic.Message.StartsWith("missing", StringComparison.Ordinal));
    }

    [Fact]
    public void APriceIdUsedTwice_IsReportedOnce()
    {
        var error = CatalogEdits.LoadWithChange("prices/electricity.yaml", "id: us-industrial-2022", "id: us-industrial-2023");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("us-industrial-2023", diagnostic.Field);
        Assert.Contains("defined twice", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APriceOfAnUnknownSystem_IsReported()
    {
        var error = CatalogEdits.LoadWithChange("prices/capital.yaml", "system: nvidia-dgx-h100", "system: nvidia-dgx-h1000");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field.EndsWith(".system", StringComparison.Ordinal) && diagnostic.Message.Contains("unknown system 'nvidia-dgx-h1000'", StringComparison.Ordinal));
    }
}
