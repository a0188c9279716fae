using ClusterTwin.Sharing;

namespace ClusterTwin.Tests.Sharing;

public sealed class UplinkContentionTests
{
    [Theory]
    [InlineData(3, 128, 32, 1.0)]     // a quarter of a 3:1 group's systems: the uplinks carry them at full rate
    [InlineData(3, 128, 64, 1.5)]     // half of it: 1.5 times what the uplinks carry
    [InlineData(3, 128, 128, 3.0)]    // all of it: the oversubscription, as the analytical engine charges
    [InlineData(1, 4, 4, 1.0)]        // non-blocking: never slowed
    public void Alone_IsTheOversubscriptionOverTheShareOfTheGroup(double oversubscription, int capacity, int own, double expected) =>
        Assert.Equal(expected, UplinkContention.Expected(oversubscription, capacity, own, []), 12);

    [Fact]
    public void OneOtherJob_WeighsItsTwoCasesByItsDuty()
    {
        // 0.7 of the time alone (4 of 10 systems at 2:1: 0.8, so 1), 0.3 beside 4 more (1.6).
        var expected = (0.7 * 1) + (0.3 * 1.6);
        Assert.Equal(expected, UplinkContention.Expected(2, 10, 4, [(4, 0.3)]), 12);
    }

    [Fact]
    public void ManyJobs_MatchEveryCombinationOfWhoSends()
    {
        var random = new Random(11);
        for (var trial = 0; trial < 40; trial++)
        {
            var oversubscription = 1 + (random.NextDouble() * 4);
            var capacity = random.Next(4, 65);
            var own = random.Next(1, capacity + 1);
            var others = Enumerable.Range(0, random.Next(1, 8)).Select(_ => (Systems: random.Next(1, capacity + 1), Duty: random.NextDouble())).ToArray();
            var brute = 0.0;
            for (var mask = 0; mask < 1 << others.Length; mask++)
            {
                var (probability, sending) = (1.0, own);
                for (var other = 0; other < others.Length; other++)
                {
                    var sends = (mask & (1 << other)) != 0;
                    probability *= sends ? others[other].Duty : 1 - others[other].Duty;
                    sending += sends ? others[other].Systems : 0;
                }

                brute += probability * UplinkContention.Factor(oversubscription, capacity, own, sending - own);
            }

            Assert.Equal(brute, UplinkContention.Expected(oversubscription, capacity, own, others), 10);
        }
    }

    [Fact]
    public void OthersThatFillTheUplinksAlmostSurely_GiveTheMeanLoad()
    {
        // Two hundred others of 8 systems each, sending 90% of the time, under a 4:1 group of 64 systems: the uplinks are
        // full unless at most one of them sends (a chance of some 10^-198), so the factor is the mean load, 4/64 (1 + 1,440).
        var others = Enumerable.Range(0, 200).Select(_ => (Systems: 8, Duty: 0.9)).ToArray();
        Assert.Equal(4.0 / 64 * (1 + 1440), UplinkContention.Expected(4, 64, 1, others), 9);
    }

    [Fact]
    public void TakingOneSenderOutOfAGroupsDistribution_IsTheOthersDistribution()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 40; trial++)
        {
            var senders = Enumerable.Range(0, random.Next(2, 30)).Select(_ => (Systems: random.Next(1, 9), Duty: random.NextDouble() * 0.5)).ToArray();
            var limit = random.Next(1, 80);
            var all = UplinkContention.Distribution(senders, limit);
            var one = random.Next(senders.Length);
            var without = UplinkContention.Without(all, senders[one].Systems, senders[one].Duty)!;
            var others = UplinkContention.Distribution(senders.Where((_, index) => index != one), limit);
            for (var sending = 0; sending < limit; sending++)
            {
                Assert.Equal(others[sending], without[sending], 12);
            }
        }

        // Above one half the undoing is unstable: the caller works the others afresh.
        Assert.Null(UplinkContention.Without([0.2, 0.8], 1, 0.6));
    }

    [Fact]
    public void OthersAlwaysSending_IsTheFactorOfAllTogether() =>
        Assert.Equal(UplinkContention.Factor(4, 32, 8, 20), UplinkContention.Expected(4, 32, 8, [(12, 1.0), (8, 1.0)]), 12);

    [Fact]
    public void MoreDuty_NeverSpeedsAJobUp()
    {
        var previous = 0.0;
        for (var duty = 0.0; duty <= 1.0; duty += 0.05)
        {
            var factor = UplinkContention.Expected(3, 16, 6, [(6, duty), (3, duty / 2)]);
            Assert.True(factor >= previous - 1e-12, $"duty {duty}: {factor} < {previous}");
            previous = factor;
        }
    }
}
