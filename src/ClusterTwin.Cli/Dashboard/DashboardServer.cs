using System.Reflection;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace ClusterTwin.Cli.Dashboard;

/// <summary>
/// The local dashboard (<c>clustertwin dashboard</c>): one page, served with its API on the loopback address only, so
/// nothing on the network reaches it. Routes: <c>GET /</c> the page; <c>GET /api/examples</c> the training examples;
/// <c>GET /api/examples/{path}</c> one example's text; <c>POST /api/simulate</c> a scenario's text, answered with
/// <see cref="DashboardApi.Simulate"/> or, for a scenario that cannot be used, status 400 and its problems.
/// </summary>
public sealed class DashboardServer : IAsyncDisposable
{
    private readonly WebApplication application;

    private DashboardServer(WebApplication application) => this.application = application;

    /// <summary>The address the page is served at, once started (the port the system chose where 0 was asked).</summary>
    public string Url => application.Urls.First();

    /// <summary>Starts serving <paramref name="catalog"/>'s examples and simulations at <c>http://127.0.0.1:<paramref name="port"/></c> (0: any free port).</summary>
    public static async Task<DashboardServer> StartAsync(HardwareCatalog catalog, int port, CancellationToken cancellationToken = default)
    {
        var api = new DashboardApi(catalog);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var application = builder.Build();
        var page = Page();
        application.MapGet("/", () => Results.Text(page, "text/html; charset=utf-8"));
        application.MapGet("/api/examples", () => JsonResult(api.Examples));
        application.MapGet("/api/examples/{**path}", (string path) => api.Example(path) is { } text ? Results.Text(text, "text/yaml; charset=utf-8") : Results.NotFound());
        application.MapPost("/api/simulate", async (HttpRequest request) => await Simulate(api, request));
        var server = new DashboardServer(application);
        await application.StartAsync(cancellationToken);
        return server;
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled or the process is asked to stop (Ctrl+C).</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => application.WaitForShutdownAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await application.StopAsync();
        await application.DisposeAsync();
    }

    private static async Task<IResult> Simulate(DashboardApi api, HttpRequest request)
    {
        if (request.ContentLength > DashboardApi.MostScenarioBytes)
        {
            return Problems(StatusCodes.Status413PayloadTooLarge, [new Diagnostic(DashboardApi.SentScenarioName, 0, string.Empty, $"the scenario is larger than {DashboardApi.MostScenarioBytes / 1024} KiB")]);
        }

        using var reader = new StreamReader(request.Body);
        var buffer = new char[DashboardApi.MostScenarioBytes + 1];
        var read = await reader.ReadBlockAsync(buffer, 0, buffer.Length);
        if (read > DashboardApi.MostScenarioBytes)
        {
            return Problems(StatusCodes.Status413PayloadTooLarge, [new Diagnostic(DashboardApi.SentScenarioName, 0, string.Empty, $"the scenario is larger than {DashboardApi.MostScenarioBytes / 1024} KiB")]);
        }

        try
        {
            // The engines are synchronous and CPU-bound: off the request's thread.
            var text = new string(buffer, 0, read);
            return JsonResult(await Task.Run(() => api.Simulate(text)));
        }
        catch (InputException error)
        {
            return Problems(StatusCodes.Status400BadRequest, error.Diagnostics);
        }
        catch (NonFiniteResultException error)
        {
            return Problems(StatusCodes.Status400BadRequest, [new Diagnostic(DashboardApi.SentScenarioName, 0, string.Empty, error.Message)]);
        }
    }

    private static IResult JsonResult(object document) => Results.Text(Json.Serialize(document), "application/json; charset=utf-8");

    private static IResult Problems(int status, IEnumerable<Diagnostic> problems) =>
        Results.Text(Json.Serialize(new { problems = problems.Select(problem => new { file = problem.File, line = problem.Line, field = problem.Field, message = problem.Message }) }), "application/json; charset=utf-8", statusCode: status);

    private static string Page()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ClusterTwin.Cli.Dashboard.index.html")
            ?? throw new InvalidOperationException("the dashboard page is missing from the assembly's resources");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
