using ClusterTwin.Planning;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Planning;

/// <summary>
/// The layouts NVIDIA's NeMo and Megatron performance tables and Korthikanti et al. publish: the search, run over the
/// same job and cluster, finds a layout the engine predicts at least as fast wherever the published one is inside
/// the search space.
/// </summary>
public class PublishedLayoutTests
{
    private static readonly string[] MegatronSources = ["nemo-24.07", "megatron-bridge-25.11", "korthikanti-2022"];

    private static IEnumerable<ValidationCase> Cases() =>
        ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), Repository.Catalog).Training.Where(item => MegatronSources.Contains(item.SourceKey));

    public static TheoryData<string> Ids() => [.. Cases().Select(item => item.Id)];

    // One search per case, shared with the page test (each search is the expensive part).
    private static readonly Lazy<Dictionary<string, PublishedLayoutComparison>> Comparisons =
        new(() => PublishedLayouts.All.Where(comparison => MegatronSources.Contains(comparison.Case.SourceKey)).ToDictionary(comparison => comparison.Case.Id, StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Ids))]
    public void BestLayoutFound_IsAtLeastAsFastAsThePublishedOne(string id)
    {
        var comparison = Comparisons.Value[id];
        var item = comparison.Case;
        Assert.NotNull(comparison.Best);
        if (comparison.OutsideSpace is null)
        {
            Assert.True(comparison.FasterByPercent >= -1e-9, $"{id}: best {comparison.Best.Result.StepTime} against published {comparison.Published} s");
        }
        else
        {
            // Outside the space: reported, not compared, and the note says which way.
            var expected = item.Scenario.Plan.ShardingGroup > 0 ? "hybrid sharding"
                : item.Scenario.Plan.FirstStageLayers is not null || item.Scenario.Plan.LastStageLayers is not null ? "stage layers are not searched"
                : !comparison.PublishedFits ? "over memory" : "not valid";
            Assert.Contains(expected, comparison.OutsideSpace, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void TheMegatronTables_HaveLayoutsInsideTheSearchSpace()
    {
        var inside = Comparisons.Value.Values.Count(comparison => comparison.OutsideSpace is null);
        Assert.True(inside >= 15, $"only {inside} published Megatron-family layouts are inside the search space");
    }
}
