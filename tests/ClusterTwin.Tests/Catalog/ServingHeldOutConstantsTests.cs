using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Catalog;

/// <summary>
/// A serving framework's held-out constants (<c>held_out</c>, written by <c>clustertwin calibrate-serving</c>) name
/// the fit's own cases and hold the framework's ranges; anything else is refused where it is written.
/// </summary>
public class ServingHeldOutConstantsTests
{
    private const string File = "frameworks/vllm-0.6.yaml";

    private const string Header = "held_out:   # each case's constants fitted without it: clustertwin validate predicts the case with them";

    [Fact]
    public void AnEntryForACaseTheFitDidNotUse_IsRefused_NamingTheFitsList()
    {
        var error = CatalogEdits.LoadWithChange(File, Header, Header + "\n  no-such-case: {layer_overhead: 50 us, request_overhead: 1 ms, matrix_scale: 1}");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "held_out.no-such-case" && diagnostic.Line > 0 &&
            diagnostic.Message.Contains("not one of the fit's cases", StringComparison.Ordinal) && diagnostic.Message.Contains("fit.fitted_on", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{layer_overhead: ", "{layer_overhead: 1 s, request_overhead: 1 ms, matrix_scale: 1} #", ".layer_overhead", "(expected 0 to 100 ms)")]
    [InlineData("{layer_overhead: ", "{layer_overhead: 50 us, request_overhead: 1 ms, matrix_scale: 0} #", ".matrix_scale", "0.05")]
    [InlineData("{layer_overhead: ", "{layer_overhead: 50 us, matrix_scale: 1} #", ".request_overhead", "missing")]
    [InlineData("{layer_overhead: ", "{layer_overhead: 50 us, request_overhead: 1 ms, matrix_scale: 1, scale: 2} #", ".scale", "unknown field")]
    public void AnEntryOutsideTheFrameworksRanges_IsRefused_NamingItsField(string from, string to, string fieldEnd, string message)
    {
        var error = CatalogEdits.LoadWithChange(File, from, to);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field.StartsWith("held_out.", StringComparison.Ordinal) && diagnostic.Field.EndsWith(fieldEnd, StringComparison.Ordinal) &&
            diagnostic.Line > 0 && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }
}
