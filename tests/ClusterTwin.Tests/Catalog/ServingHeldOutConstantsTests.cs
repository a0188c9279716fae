using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Catalog;

/// <summary>
/// A serving framework's held-out constants (<c>held_out_constants</c>, written by <c>clustertwin calibrate-serving</c>
/// with its <c>fit</c>) name the fit's own cases, one entry each, and hold the framework's ranges; anything else is
/// refused where it is written.
/// </summary>
public class ServingHeldOutConstantsTests
{
    private const string File = "frameworks/vllm-0.6.yaml";

    private const string Header = "held_out_constants:   # each case's constants fitted without it: clustertwin validate predicts the case with them";

    private const string Entry = "  sglang-bench-vllm-llama31-70b-4xh100-rps4: {";

    [Fact]
    public void AnEntryForACaseTheFitDidNotUse_IsRefused_ListingTheFitsCases()
    {
        var error = CatalogEdits.LoadWithChange(File, Header, Header + "\n  no-such-case: {layer_overhead: 50 us, request_overhead: 1 ms, matrix_scale: 1}");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "held_out_constants.no-such-case" && diagnostic.Line > 0 &&
            diagnostic.Message.Contains("not one of the fit's cases", StringComparison.Ordinal) &&
            diagnostic.Message.Contains("sglang-bench-vllm-llama31-70b-4xh100-rps8", StringComparison.Ordinal));
    }

    [Fact]
    public void ACaseOfTheFitWithoutAnEntry_IsRefused_NamingIt()
    {
        var error = CatalogEdits.LoadWithChange(File, Entry, "  # " + Entry.TrimStart());
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("held_out_constants", diagnostic.Field);
        Assert.Contains("no entry for sglang-bench-vllm-llama31-70b-4xh100-rps4", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeldOutConstantsWithoutAFit_AreRefusedOnce_SayingTheFitIsMissing()
    {
        var error = CatalogEdits.LoadWithChange(File, "\nfit:\n", "\nold_fit:\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "held_out_constants" && diagnostic.Message.Contains("needs the fit block", StringComparison.Ordinal));
        Assert.DoesNotContain(error.Diagnostics, diagnostic => diagnostic.Field.StartsWith("held_out_constants.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{layer_overhead: 1 s, request_overhead: 1 ms, matrix_scale: 1} #", ".layer_overhead", "(expected 0 to 100 ms)")]
    [InlineData("{layer_overhead: 50 us, request_overhead: 1 ms, matrix_scale: 0} #", ".matrix_scale", "0.05")]
    [InlineData("{layer_overhead: 50 us, matrix_scale: 1} #", ".request_overhead", "missing")]
    [InlineData("{layer_overhead: 50 us, request_overhead: 1 ms} #", ".matrix_scale", "missing")]
    [InlineData("{layer_overhead: 50 us, request_overhead: 1 ms, matrix_scale: 1, scale: 2} #", ".scale", "unknown field")]
    [InlineData("{layer_overhead: 50 us, request_overhead: 1 ms, request_overhead_p99: 0.5 ms, matrix_scale: 1} #", ".request_overhead_p99", "lies below the median")]
    [InlineData("[50 us, 1 ms, 1] #", "rps4", "expected a mapping of layer_overhead, request_overhead, matrix_scale")]
    public void AnEntryOutsideTheFrameworksRanges_IsRefused_NamingItsField(string to, string fieldEnd, string message)
    {
        var error = CatalogEdits.LoadWithChange(File, Entry, Entry[..^1] + to);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field.StartsWith("held_out_constants.sglang-bench-vllm-llama31-70b-4xh100-rps4", StringComparison.Ordinal) &&
            diagnostic.Field.EndsWith(fieldEnd, StringComparison.Ordinal) && diagnostic.Line > 0 && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }
}
