using System.Net;
using System.Text;
using System.Text.Json;
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

    private async Task<(HttpStatusCode Status, JsonElement Body)> Simulate(string text)
    {
        using var client = Client();
        using var response = await client.PostAsync("/api/simulate", new StringContent(text, Encoding.UTF8, "text/yaml"));
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

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
    public async Task TheExamples_AreTheTrainingScenariosSimulateReads_AndOnlyThoseCanBeRead()
    {
        using var client = Client();
        var names = JsonSerializer.Deserialize<string[]>(await client.GetStringAsync("/api/examples"))!;
        Assert.Contains("gpt3-175b-h100-1024.yaml", names);
        Assert.Contains("stragglers/llama3-405b-trn3-1m-spread.yaml", names);
        Assert.DoesNotContain(names, name => name.StartsWith("serve", StringComparison.Ordinal) || name.Contains("search", StringComparison.Ordinal));
        var text = await client.GetStringAsync("/api/examples/gpt3-175b-h100-1024.yaml");
        Assert.Equal(File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")), text);
        foreach (var outside in new[] { "/api/examples/..%2F..%2FREADME.md", "/api/examples/serve-llama3-70b-h100.yaml", "/api/examples/nope.yaml" })
        {
            using var response = await client.GetAsync(outside);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }
    }

    [Fact]
    public async Task ASimulation_IsSimulatesJson_WithEveryReplayedPassAndTheDrawnSteps()
    {
        var path = Repository.Path("examples", "stragglers", "llama3-405b-trn3-16k-spread.yaml");
        var (status, body) = await Simulate(File.ReadAllText(path));
        Assert.Equal(HttpStatusCode.OK, status);
        var cli = JsonDocument.Parse(CliRunner.Run("simulate", path, "--json").Output).RootElement;
        var document = body.GetProperty("document");
        Assert.Equal(cli.GetProperty("stepTimeSeconds").GetDouble(), document.GetProperty("stepTimeSeconds").GetDouble());
        Assert.Equal(cli.GetProperty("eventLevel").GetProperty("stragglers").GetProperty("meanSeconds").GetDouble(), document.GetProperty("eventLevel").GetProperty("stragglers").GetProperty("meanSeconds").GetDouble());
        var timeline = body.GetProperty("timeline");
        Assert.Equal(timeline.GetProperty("passes").GetInt32(), timeline.GetProperty("spans").GetArrayLength());
        Assert.Equal(18, timeline.GetProperty("ranks").GetInt32());
        Assert.Equal(1000, body.GetProperty("stragglerSteps").GetArrayLength());
    }

    [Fact]
    public async Task AScenarioThatCannotBeUsed_IsAnsweredWithItsProblems_NamedLikeSimulates()
    {
        var (status, body) = await Simulate("name: x\ncluster: {system: nope, count: 1}\n");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var problems = body.GetProperty("problems").EnumerateArray().ToArray();
        var system = Assert.Single(problems, problem => problem.GetProperty("field").GetString() == "cluster.system");
        Assert.Equal("scenario.yaml", system.GetProperty("file").GetString());
        Assert.Equal(2, system.GetProperty("line").GetInt32());
        Assert.Contains("unknown system 'nope'", system.GetProperty("message").GetString(), StringComparison.Ordinal);
        var (tooLarge, _) = await Simulate(new string('#', DashboardApi.MostScenarioBytes + 10));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge);
    }

    [Fact]
    public async Task APlanThatDoesNotDivide_IsAResult_NotAnError()
    {
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")).Replace("pipeline: 8", "pipeline: 7", StringComparison.Ordinal);
        var (status, body) = await Simulate(text);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(body.GetProperty("document").GetProperty("valid").GetBoolean());
        Assert.False(body.TryGetProperty("timeline", out _));
    }
}
