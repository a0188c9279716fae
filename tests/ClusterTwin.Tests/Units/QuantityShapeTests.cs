using System.Reflection;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Units;

/// <summary>Every quantity offers the same members, so none lags behind the others (NodaTime keeps its value types alike the same way).</summary>
public class QuantityShapeTests
{
    private static readonly Type[] Quantities = typeof(IQuantity<>).Assembly.GetTypes()
        .Where(type => type.IsValueType && type.GetInterfaces().Any(face => face.IsGenericType && face.GetGenericTypeDefinition() == typeof(IQuantity<>)))
        .OrderBy(type => type.Name, StringComparer.Ordinal)
        .ToArray();

    [Fact]
    public void TheTwelveQuantities_AreAllThere() =>
        Assert.Equal(["Bandwidth", "Bytes", "Duration", "Energy", "EnergyPerByte", "EnergyPerFlop", "EnergyPrice", "FlopRate", "Flops", "Money", "MoneyRate", "Power"], Quantities.Select(type => type.Name));

    [Theory]
    [InlineData("op_Addition")]
    [InlineData("op_Subtraction")]
    [InlineData("op_Multiply")]
    [InlineData("op_Division")]
    [InlineData("op_LessThan")]
    [InlineData("op_GreaterThanOrEqual")]
    [InlineData("Max")]
    [InlineData("Min")]
    [InlineData("Parse")]
    [InlineData("FromBaseValue")]
    public void EveryQuantity_HasTheMember(string member)
    {
        foreach (var type in Quantities)
        {
            Assert.True(type.GetMember(member, BindingFlags.Public | BindingFlags.Static).Length > 0, $"{type.Name} lacks {member}");
        }
    }

    [Fact]
    public void NoQuantity_ConvertsImplicitlyToDouble()
    {
        foreach (var type in Quantities)
        {
            Assert.DoesNotContain(type.GetMethods(BindingFlags.Public | BindingFlags.Static), method => method.Name is "op_Implicit" or "op_Explicit");
        }
    }

    [Fact]
    public void TooLargeAValue_IsAnError_NotInfinity()
    {
        Assert.False(Quantity.TryParse<Duration>("1e308 d", out _, out var error));
        Assert.Contains("too large", error, StringComparison.Ordinal);
    }
}
