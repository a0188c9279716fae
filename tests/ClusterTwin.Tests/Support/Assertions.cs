namespace ClusterTwin.Tests.Support;

internal static class Within
{
    /// <summary>Asserts <paramref name="actual"/> is within <paramref name="relative"/> of <paramref name="expected"/>.</summary>
    public static void Relative(double expected, double actual, double relative)
    {
        var error = Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), double.Epsilon);
        Assert.True(error <= relative, $"expected {expected:G6} within {relative:P2}, got {actual:G6} ({error:P3} off)");
    }
}
