using ClusterTwin.Units;
using CsCheck;

namespace ClusterTwin.Tests.Units;

public class QuantityTests
{
    [Theory]
    [InlineData("4.9 TB/s", 4.9e12)]
    [InlineData("2048 GiB/s", 2048.0 * 1024 * 1024 * 1024)]
    [InlineData("400 Gb/s", 50e9)]
    [InlineData("400 Gbps", 50e9)]
    [InlineData("820 GiB/s", 820.0 * 1024 * 1024 * 1024)]
    public void Bandwidth_Parse_ConvertsToBytesPerSecond(string text, double expected) =>
        Assert.Equal(expected, Bandwidth.Parse(text).BytesPerSecond, 6);

    [Theory]
    [InlineData("144 GiB", 144.0 * 1024 * 1024 * 1024)]
    [InlineData("80 GB", 80e9)]
    [InlineData("256 MiB", 256.0 * 1024 * 1024)]
    public void Bytes_Parse_KeepsGigabytesAndGibibytesApart(string text, double expected) =>
        Assert.Equal(expected, Bytes.Parse(text).Count);

    [Fact]
    public void Parse_OtherQuantities_UseTheirBaseUnits()
    {
        Assert.Equal(989e12, FlopRate.Parse("989 TFLOPS").OperationsPerSecond);
        Assert.Equal(128e9, Flops.Parse("128 GFLOP").Operations);
        Assert.Equal(1.5e-6, Duration.Parse("1.5 us").Seconds, 15);
        Assert.Equal(3600, Duration.Parse("1 h").Seconds);
        Assert.Equal(700, Power.Parse("700 W").Watts);
        Assert.Equal(3.6e6, Energy.Parse("1 kWh").Joules);
        Assert.Equal(21.5, Money.Parse("$21.50").Dollars);
    }

    [Theory]
    [InlineData("4.9 TB/s", "4.9 TB/s")]
    [InlineData("144 GiB", "144 GiB")]
    [InlineData("80 GB", "80 GB")]
    [InlineData("700 W", "700 W")]
    [InlineData("1.5 us", "1.5 us")]
    [InlineData("0 s", "0 s")]
    [InlineData("46.5 kJ", "12.92 Wh")]
    [InlineData("216 kJ", "60 Wh")]
    [InlineData("72.77 J", "72.77 J")]
    [InlineData("3 kJ", "3000 J")]
    public void ToString_PrintsTheUnitThatFits(string text, string expected)
    {
        var printed = text.EndsWith("B/s", StringComparison.Ordinal) ? Bandwidth.Parse(text).ToString()
            : text.EndsWith('J') ? Energy.Parse(text).ToString()
            : text.EndsWith('B') ? Bytes.Parse(text).ToString()
            : text.EndsWith('W') ? Power.Parse(text).ToString()
            : Duration.Parse(text).ToString();
        Assert.Equal(expected, printed);
    }

    [Theory]
    [InlineData("4.9", "has no unit")]
    [InlineData("4.9 TB", "is not a unit of bandwidth")]
    [InlineData("fast", "does not start with a number")]
    [InlineData("2,048 GiB/s", "without thousands separators")]
    [InlineData("", "expected a bandwidth")]
    public void Bandwidth_TryParse_ExplainsWhatIsWrong(string text, string reason)
    {
        Assert.False(Quantity.TryParse<Bandwidth>(text, out _, out var error));
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Printing_ThenParsing_RoundTripsWithinFourDigits() =>
        Gen.Double[1e-3, 1e18].Sample(value =>
        {
            var original = Bandwidth.FromBytesPerSecond(value);
            var back = Bandwidth.Parse(original.ToString());
            return Math.Abs(back.BytesPerSecond - value) <= value * 1e-3;
        });

    [Fact]
    public void Addition_Zero_IsNeutral() =>
        Gen.Double[0, 1e15].Sample(value => Bytes.FromCount(value) + Bytes.Zero == Bytes.FromCount(value));

    [Fact]
    public void CrossQuantityOperators_AreThePhysicalOnes()
    {
        Assert.Equal(2, (Flops.Parse("2 TFLOP") / FlopRate.Parse("1 TFLOPS")).Seconds, 12);
        Assert.Equal(0.5, (Bytes.Parse("1 GB") / Bandwidth.Parse("2 GB/s")).Seconds, 12);
        Assert.Equal(7000, (Power.Parse("700 W") * Duration.Parse("10 s")).Joules, 9);
        Assert.Equal(700, (Energy.Parse("7 kJ") / Duration.Parse("10 s")).Watts, 9);
    }
}
