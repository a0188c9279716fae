using ClusterTwin.Hardware;
using ClusterTwin.Sharing;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Sharing;

public sealed class SwitchGroupsTests
{
    private static Cluster DgxH100(int systems) =>
        new(Repository.Catalog.Systems["nvidia-dgx-h100"], systems, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);

    [Fact]
    public void NdrFatTree_HoldsFourDgxPerLeafAndOneHundredTwentyEightPerSpineGroup()
    {
        // Radix 64: 32 ports down per leaf (4 x 8 GPUs), 32 x 32 = 1,024 per spine group (128 DGX).
        var groups = new SwitchGroups(DgxH100(256));
        Assert.Equal(4, groups.SystemsPerGroup[0]);
        Assert.Equal(128, groups.SystemsPerGroup[1]);
        Assert.Equal(2, groups.TiersBelowTop);
    }

    [Fact]
    public void SystemsLargerThanALeaf_TakeAGroupEach_AndGroupsNest()
    {
        // 72 chips per NVL72 rack, 32 ports down per leaf: a leaf group is one rack; the tiers above hold whole ones below.
        var cluster = new Cluster(Repository.Catalog.Systems["nvidia-gb200-nvl72"], 40, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);
        var groups = new SwitchGroups(cluster);
        Assert.Equal(1, groups.SystemsPerGroup[0]);
        for (var tier = 1; tier < groups.Tiers; tier++)
        {
            Assert.Equal(0, groups.SystemsPerGroup[tier] % groups.SystemsPerGroup[tier - 1]);
        }
    }

    [Theory]
    [InlineData(PlacementPolicy.Packed)]
    [InlineData(PlacementPolicy.Spread)]
    [InlineData(PlacementPolicy.Random)]
    public void EveryPolicy_DealsEverySystemOnce(PlacementPolicy policy)
    {
        var order = new SwitchGroups(DgxH100(26)).DealingOrder(policy, seed: 3);
        Assert.Equal(Enumerable.Range(0, 26), order.Order());
    }

    [Fact]
    public void Spread_GoesRoundTheLeavesBeforeASecondSystemInAny()
    {
        var order = new SwitchGroups(DgxH100(16)).DealingOrder(PlacementPolicy.Spread, seed: 1);
        Assert.Equal([0, 4, 8, 12, 1, 5, 9, 13], order.Take(8));
    }

    [Fact]
    public void Spread_WhereASystemFillsItsLeaf_GoesRoundTheSpines()
    {
        // A GB200 NVL72 rack is its own leaf group: spread deals round the groups of the next tier up instead.
        var cluster = new Cluster(Repository.Catalog.Systems["nvidia-gb200-nvl72"], 64, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);
        var groups = new SwitchGroups(cluster);
        var order = groups.DealingOrder(PlacementPolicy.Spread, 1);
        var perSpine = groups.SystemsPerGroup[1];
        Assert.True(perSpine > 1 && perSpine < 64);
        Assert.Equal(perSpine, order[1]);
    }

    [Fact]
    public void Random_FollowsItsSeed()
    {
        var groups = new SwitchGroups(DgxH100(64));
        Assert.Equal(groups.DealingOrder(PlacementPolicy.Random, 5).AsEnumerable(), groups.DealingOrder(PlacementPolicy.Random, 5).AsEnumerable());
        Assert.NotEqual(groups.DealingOrder(PlacementPolicy.Random, 5).AsEnumerable(), groups.DealingOrder(PlacementPolicy.Random, 6).AsEnumerable());
    }
}
