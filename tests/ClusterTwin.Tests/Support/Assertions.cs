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

internal static class Reported
{
    /// <summary>
    /// Asserts that <paramref name="outcome"/>'s errors name the file <paramref name="file"/>, the field
    /// <paramref name="field"/> and the <paramref name="reason"/>, as bad input is reported (<c>file:line: field: ...</c>),
    /// with no stack trace.
    /// </summary>
    public static void AtField(CliRunner.Outcome outcome, string file, string field, string reason)
    {
        Assert.Contains($"{file}:", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains($": {field}: ", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains(reason, outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Errors, StringComparison.Ordinal);
    }
}
