using ClusterTwin.Tests.Support;
using Xunit;

namespace ClusterTwin.Tests.Catalog;

/// <summary>A chip's family names curves: its own family's, or the default ones for the families the default file lists.</summary>
public sealed class ChipFamilyTests
{
    [Theory]
    [InlineData("chips/amd-mi300x.yaml", "family: amd-cdna3", "family: amd-cdna33", "amd-mi300x.yaml: family: 'amd-cdna33' is not a chip family of the catalogue")]
    [InlineData("efficiency/default.yaml", "families: [amd-cdna3,", "families: [nvidia-hopper, amd-cdna3,", "families: 'nvidia-hopper' has an efficiency file of its own")]
    [InlineData("efficiency/default.yaml", "families: [amd-cdna3, amd-cdna4]", "families: [amd-cdna4]", "amd-mi300x.yaml: family: 'amd-cdna3' is not a chip family of the catalogue")]
    [InlineData("efficiency/aws-trainium3.yaml", "carried_over_from: aws-neuroncore-v2", "carried_over_from: aws-neuroncore-v3", "aws-trainium3.yaml: carried_over_from: 'aws-neuroncore-v3' is not a family of the catalogue")]
    [InlineData("efficiency/aws-neuroncore-v2.yaml", "carried_over_from: nvidia-ampere", "carried_over_from: aws-trainium3", "aws-neuroncore-v2.yaml: carried_over_from: 'aws-trainium3' leads back to aws-neuroncore-v2, round a loop")]
    [InlineData("efficiency/default.yaml", "families: [amd-cdna3,", "families: amd-cdna3\nx: [", "families: expected a list of chip family names")]
    [InlineData("efficiency/nvidia-blackwell.yaml", "family: nvidia-blackwell\n", "family: nvidia-blackwell\nfamilies: [amd-cdna3]\n", "families: only default.yaml lists the families")]
    public void AFamilyTheCatalogueDoesNotKnow_IsReportedWhereItIsWritten(string file, string find, string replace, string expected) =>
        Assert.Contains(expected, CatalogEdits.LoadWithChange(file, find, replace).Message, StringComparison.Ordinal);

    [Fact]
    public void EveryChipsFamily_HasCurvesOfItsOwn_OrIsOneTheDefaultCurvesServe()
    {
        var catalog = Repository.Catalog;
        var served = catalog.Efficiencies["default"].ServesFamilies;
        Assert.NotEmpty(served);
        Assert.All(catalog.Chips.Values, chip => Assert.True(catalog.Efficiencies.ContainsKey(chip.Family) || served.Contains(chip.Family), chip.Id));
        Assert.Contains("amd-cdna3", served);
        Assert.DoesNotContain("aws-trainium3", served);
    }
}
