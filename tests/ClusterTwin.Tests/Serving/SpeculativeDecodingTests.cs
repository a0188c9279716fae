using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class SpeculativeDecodingTests
{
    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    private static RequestWorkload Lone => new() { Arrivals = ArrivalKind.AllAtOnce, Requests = 1, InputTokens = TokenCount.Fixed(500), OutputTokens = TokenCount.Fixed(401) };

    [Fact]
    public void ExpectedTokens_FollowTheGeometricAcceptance()
    {
        var draft = Repository.Catalog.Models["llama3-8b"];
        Assert.Equal((1 - Math.Pow(0.7, 5)) / 0.3, new Speculation(draft, 4, 0.7).ExpectedTokens, 1e-12);
        Assert.Equal(1, new Speculation(draft, 4, 0).ExpectedTokens, 1e-12);
        Assert.Equal(5, new Speculation(draft, 4, 1).ExpectedTokens, 1e-12);
    }

    [Fact]
    public void ALoneRequest_DecodesItsExpectedRunPerIteration_AtTheCostOfVerifyingAndDrafting()
    {
        var speculation = new Speculation(Repository.Catalog.Models["llama3-8b"], 4, 0.8);
        var deployment = Deployment with { Speculation = speculation };
        var result = ServingSimulator.Run(deployment, Lone);
        var iteration = new IterationCost(deployment).Of(new Iteration(1, 700, 0, 0, 1)).Time.Seconds;
        Assert.Equal(iteration / speculation.ExpectedTokens, result.TimePerOutputToken.Mean, iteration / speculation.ExpectedTokens * 0.03);
        Assert.Equal(401, result.OutputTokens);

        // The iteration verifies five positions and drafts four: dearer than a plain decode, cheaper than five.
        var plain = new IterationCost(Deployment).Of(new Iteration(1, 700, 0, 0, 1)).Time.Seconds;
        Assert.InRange(iteration, plain * 1.05, plain * 5);
    }

    [Fact]
    public void WithNothingAccepted_SpeculationOnlyCosts()
    {
        var plain = ServingSimulator.Run(Deployment, Lone);
        var wasted = ServingSimulator.Run(Deployment with { Speculation = new Speculation(Repository.Catalog.Models["llama3-8b"], 4, 0) }, Lone);
        Assert.True(wasted.TimePerOutputToken.Mean > plain.TimePerOutputToken.Mean);
        Assert.True(wasted.KeyValueCapacityTokens < plain.KeyValueCapacityTokens, "the draft's weights and cache take memory");
    }

    [Fact]
    public void ADraftWithAnotherTokenizer_IsRefused()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-h100.yaml"))
            .Replace("  memory_utilization: 0.9", "  memory_utilization: 0.9\n  speculative: {draft: llama2-7b, draft_tokens: 4, acceptance: 0.7}", StringComparison.Ordinal);
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("draft.yaml", text), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.speculative.draft" && diagnostic.Message.Contains("tokenizer", StringComparison.Ordinal));
    }
}
