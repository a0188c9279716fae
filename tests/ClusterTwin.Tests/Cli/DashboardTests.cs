using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using ClusterTwin.Cli.Dashboard;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary>The dashboard's server, started on a free loopback port: its page, its examples and its simulations.</summary>
public sealed class DashboardTests : IAsyncLifetime
{
    private DashboardServer server = null!;

    public async Task InitializeAsync() => server = await DashboardServer.StartAsync(Repository.Catalog, port: 0);

    public async Task DisposeAsync() => await server.DisposeAsync();

    private HttpClient Client() => new() { BaseAddress = new Uri(server.Url) };

    /// <summary>Sends <paramref name="text"/> as YAML to <paramref name="route"/>: the status and the answer.</summary>
    private async Task<(HttpStatusCode Status, JsonNode Body)> Post(string route, string text)
    {
        using var client = Client();
        using var response = await client.PostAsync(route, new StringContent(text, Encoding.UTF8, "text/yaml"));
        return (response.StatusCode, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private Task<(HttpStatusCode Status, JsonNode Body)> Simulate(string text) => Post("/api/simulate", text);

    private static string Example(params string[] path) => File.ReadAllText(Repository.Path(["examples", .. path]));

    [Fact]
    public async Task ThePage_IsServedOnTheLoopbackAddressOnly()
    {
        Assert.StartsWith("http://127.0.0.1:", server.Url, StringComparison.Ordinal);
        using var client = Client();
        var page = await client.GetStringAsync("/");
        Assert.Contains("<title>ClusterTwin dashboard</title>", page, StringComparison.Ordinal);
        Assert.Contains("/api/simulate", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheExamples_AreTheScenariosSimulateAndServeRead_AndOnlyThoseCanBeRead()
    {
        using var client = Client();
        var examples = JsonNode.Parse(await client.GetStringAsync("/api/examples"))!.AsArray()
            .ToDictionary(example => example!["path"]!.GetValue<string>(), example => example!["kind"]!.GetValue<string>());
        Assert.Equal("training", examples["gpt3-175b-h100-1024.yaml"]);
        Assert.Equal("training", examples["stragglers/llama3-405b-trn3-1m-spread.yaml"]);
        Assert.Equal("training", examples["mixed/llama3-405b-rubin-trainium4.yaml"]);
        Assert.Equal("serving", examples["serve-llama3-70b-h100.yaml"]);
        Assert.Equal("rl", examples["rl/nemo-rl-v0.4/llama3-8b-on-policy.yaml"]);
        Assert.Equal("share", examples["shared/h100-spine-3to1-spread.yaml"]);
        // Searches are other commands' files.
        Assert.DoesNotContain(examples.Keys, name => name.Contains("search", StringComparison.Ordinal));
        var text = await client.GetStringAsync("/api/examples/gpt3-175b-h100-1024.yaml");
        Assert.Equal(File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")), text);
        foreach (var outside in new[] { "/api/examples/..%2F..%2FREADME.md", "/api/examples/serve-search-llama3-70b.yaml", "/api/examples/nope.yaml" })
        {
            using var response = await client.GetAsync(outside);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task AServingScenario_IsServesJson()
    {
        var (status, body) = await Post("/api/serve", Example("serve-llama3-70b-h100.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        var cli = JsonNode.Parse(CliRunner.Run("serve", Repository.Path("examples", "serve-llama3-70b-h100.yaml"), "--json").Output);
        Assert.True(JsonNode.DeepEquals(cli, body));
    }

    [Fact]
    public async Task AnRlScenario_IsRlsJson()
    {
        var (status, body) = await Post("/api/rl", Example("rl", "nemo-rl-v0.4", "llama3-8b-off-policy.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        var cli = JsonNode.Parse(CliRunner.Run("rl", Repository.Path("examples", "rl", "nemo-rl-v0.4", "llama3-8b-off-policy.yaml"), "--json").Output);
        Assert.True(JsonNode.DeepEquals(cli, body));
    }

    [Fact]
    public async Task ASharedCluster_IsSharesJson()
    {
        var (status, body) = await Post("/api/share", Example("shared", "h100-spine-3to1-spread.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        var cli = JsonNode.Parse(CliRunner.Run("share", Repository.Path("examples", "shared", "h100-spine-3to1-spread.yaml"), "--json").Output);
        Assert.True(JsonNode.DeepEquals(cli, body));
    }

    [Fact]
    public async Task ASimulation_IsSimulatesJson_WithEveryReplayedPassAndTheDrawnSteps()
    {
        var (status, body) = await Simulate(Example("stragglers", "llama3-405b-trn3-16k-spread.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        // The whole document, number for number, is what simulate --json prints.
        var cli = JsonNode.Parse(CliRunner.Run("simulate", Repository.Path("examples", "stragglers", "llama3-405b-trn3-16k-spread.yaml"), "--json").Output);
        Assert.True(JsonNode.DeepEquals(cli, body["document"]));
        var timeline = body["timeline"]!;
        Assert.Equal(timeline["passes"]!.GetValue<int>(), timeline["spans"]!.AsArray().Count);
        Assert.Equal(18, timeline["ranks"]!.GetValue<int>());
        Assert.Equal(1000, body["stragglerSteps"]!.AsArray().Count);
    }

    [Fact]
    public async Task APipelineOverTwoKindsOfChip_IsSimulatesJsonForIt_WithEveryReplayedPass()
    {
        var (status, body) = await Simulate(Example("mixed", "llama3-405b-rubin-trainium4.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        var cli = JsonNode.Parse(CliRunner.Run("simulate", Repository.Path("examples", "mixed", "llama3-405b-rubin-trainium4.yaml"), "--json").Output);
        Assert.True(JsonNode.DeepEquals(cli, body["mixed"]));
        var timeline = body["timeline"]!;
        Assert.Equal(16, timeline["ranks"]!.GetValue<int>());
        Assert.Equal(timeline["passes"]!.GetValue<int>(), timeline["spans"]!.AsArray().Count);
    }

    [Fact]
    public async Task AZeroBubbleStep_IsDrawnWithItsWeightGradientsApart()
    {
        var (status, body) = await Simulate(Example("compare-schedules", "deepseek-v3-h100-2048-zero-bubble.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        var timeline = body["timeline"]!;
        Assert.Equal("zero-bubble", timeline["schedule"]!.GetValue<string>());
        var kinds = timeline["spans"]!.AsArray().GroupBy(span => span![1]!.GetValue<double>()).ToDictionary(group => group.Key, group => group.Count());
        // A forward, an input gradient and a weight gradient of each of 120 micro-batches on each of 16 ranks.
        Assert.Equal(3, kinds.Count);
        Assert.Equal(2.0, kinds.Keys.Max());
        Assert.All(kinds.Values, count => Assert.Equal(16 * 120, count));
        // The critical path's passes, by their place among the spans, for the chart to outline.
        var critical = timeline["critical"]!.AsArray().Select(index => index!.GetValue<int>()).ToArray();
        Assert.True(critical.Length > 120 && critical.All(index => index >= 0 && index < kinds.Values.Sum()));
    }

    [Fact]
    public async Task ALayoutSearch_IsPlansCompareWithTheTenFastest()
    {
        var (status, answer) = await Post("/api/plan", Example("gpt3-175b-h100-1024.yaml"));
        Assert.Equal(HttpStatusCode.OK, status);
        var cli = JsonNode.Parse(CliRunner.Run("plan", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), "--compare", "--top", "10", "--json").Output)!;
        // The same layouts in the same order, with the scenario's own beside them; only the time taken differs.
        Assert.Equal(10, answer["plans"]!.AsArray().Count);
        Assert.True(JsonNode.DeepEquals(cli["plans"], answer["plans"]));
        Assert.True(JsonNode.DeepEquals(cli["given"], answer["given"]));
        Assert.Equal(cli["evaluated"]!.GetValue<long>(), answer["evaluated"]!.GetValue<long>());
    }

    [Fact]
    public async Task APlanBlockThatNamesPartOfALayout_PinsIt_AsPlanDoes()
    {
        // Without data parallelism the block is not a whole layout: its fields are pinned, nothing is compared.
        var text = Example("gpt3-175b-h100-1024.yaml").Replace("  data: 16\n", string.Empty, StringComparison.Ordinal);
        Assert.DoesNotContain("data: 16", text, StringComparison.Ordinal);
        var (status, answer) = await Post("/api/plan", text);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Null(answer["given"]);
        var plans = answer["plans"]!.AsArray();
        Assert.NotEmpty(plans);
        Assert.All(plans, ranked => Assert.Equal((8, 8), (ranked!["plan"]!["tensor"]!.GetValue<int>(), ranked["plan"]!["pipeline"]!.GetValue<int>())));
    }

    [Fact]
    public async Task AServingRunTooLongForThePage_IsRefusedWithTheCommandThatRunsIt()
    {
        var (status, body) = await Post("/api/serve", Example("serve-llama3-70b-h100.yaml").Replace("count: 2000", "count: 60000", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var problem = body["problems"]![0]!;
        Assert.Equal("requests.count", problem["field"]!.GetValue<string>());
        Assert.Contains("clustertwin serve FILE", problem["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScenarioSentToTheWrongRoute_IsToldSo_WithoutTheServersTemporaryPath()
    {
        var (status, body) = await Simulate(Example("serve-llama3-70b-h100.yaml"));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("serving scenario", body.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("clustertwin-dashboard-", body.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AScenarioThatCannotBeUsed_IsAnsweredWithItsProblems_NamedLikeSimulates()
    {
        var (status, body) = await Simulate("name: x\ncluster: {system: nope, count: 1}\n");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var system = Assert.Single(body["problems"]!.AsArray(), problem => problem!["field"]!.GetValue<string>() == "cluster.system")!;
        Assert.Equal("scenario.yaml", system["file"]!.GetValue<string>());
        Assert.Equal(2, system["line"]!.GetValue<int>());
        Assert.Contains("unknown system 'nope'", system["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var (tooLarge, _) = await Simulate(new string('#', DashboardApi.MostScenarioBytes + 10));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge);
    }

    [Fact]
    public async Task TheSizeLimit_CountsBytes_EvenWithoutALength()
    {
        // 400,000 euro signs are 1.2 MB of UTF-8 in 400,000 characters, sent in chunks with no Content-Length.
        var bytes = Encoding.UTF8.GetBytes("# " + new string('\u20AC', 400_000));
        using var client = Client();
        using var content = new StreamContent(new UnknownLength(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("text/yaml");
        using var response = await client.PostAsync("/api/simulate", content);
        Assert.Null(response.RequestMessage?.Content?.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task APageElsewhere_CannotAskForASimulation()
    {
        var text = Example("gpt3-175b-h100-1024.yaml");
        using var client = Client();
        // A form or a plain-text fetch from another site (no preflight) is refused for its type.
        using (var plain = await client.PostAsync("/api/simulate", new StringContent(text, Encoding.UTF8, "text/plain")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        }

        // A name rebound to 127.0.0.1 arrives with its own host: refused.
        using var rebound = new HttpRequestMessage(HttpMethod.Get, "/api/examples");
        rebound.Headers.Host = "attacker.example";
        using var answer = await client.SendAsync(rebound);
        Assert.Equal(HttpStatusCode.MisdirectedRequest, answer.StatusCode);
    }

    [Fact]
    public async Task TheListenerStaysOnLoopback_WhateverTheEnvironmentSays()
    {
        // ASP.NET Core reads endpoints from the environment; the dashboard's host reads none.
        Environment.SetEnvironmentVariable("Kestrel__Endpoints__Http__Url", "http://0.0.0.0:0");
        Environment.SetEnvironmentVariable("ASPNETCORE_URLS", "http://0.0.0.0:0");
        try
        {
            await using var other = await DashboardServer.StartAsync(Repository.Catalog, port: 0);
            Assert.Matches(@"^http://127\.0\.0\.1:\d+$", other.Url);
        }
        finally
        {
            Environment.SetEnvironmentVariable("Kestrel__Endpoints__Http__Url", null);
            Environment.SetEnvironmentVariable("ASPNETCORE_URLS", null);
        }
    }

    /// <summary>A stream that does not say its length, so that the client sends it in chunks.</summary>
    private sealed class UnknownLength(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;

        public override long Length => throw new NotSupportedException();
    }

    [Fact]
    public async Task APlanThatDoesNotDivide_IsAResult_NotAnError()
    {
        var (status, body) = await Simulate(Example("gpt3-175b-h100-1024.yaml").Replace("pipeline: 8", "pipeline: 7", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body["document"]!["valid"]!.GetValue<bool>());
        Assert.Null(body["timeline"]);
    }
}
