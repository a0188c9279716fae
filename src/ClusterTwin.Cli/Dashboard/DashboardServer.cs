using System.Net;
using System.Reflection;
using System.Text;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ClusterTwin.Cli.Dashboard;

/// <summary>
/// The local dashboard (<c>clustertwin dashboard</c>): one page, served with its API on the loopback address only, so
/// nothing on the network reaches it. Routes: <c>GET /</c> the page; <c>GET /api/examples</c> the training examples;
/// <c>GET /api/examples/{path}</c> one example's text; <c>POST /api/simulate</c>, <c>POST /api/plan</c>,
/// <c>POST /api/serve</c>, <c>POST /api/rl</c> and <c>POST /api/share</c> a scenario's text, answered with <see cref="DashboardApi.Simulate"/>,
/// <see cref="DashboardApi.Plan"/>, <see cref="DashboardApi.Serve"/> or <see cref="DashboardApi.Reinforce"/>, or, for a
/// scenario that cannot be used, status 400 and its problems.
/// </summary>
/// <remarks>
/// The host is built empty: no settings file, environment variable or command-line argument can move its listener off
/// the loopback address. A request must name this machine's address as its host (a page elsewhere that rebinds a name
/// to 127.0.0.1 is refused), and a simulation must be sent as YAML (<c>text/yaml</c>), a type a page elsewhere cannot
/// send without the browser asking first, which this server does not answer. Two simulations or searches run at a time,
/// as the machines it is meant for have two cores; others wait their turn.
/// </remarks>
public sealed class DashboardServer : IAsyncDisposable
{
    private static readonly string[] YamlTypes = ["text/yaml", "application/yaml", "application/x-yaml", "text/x-yaml"];

    private readonly WebApplication application;

    private DashboardServer(WebApplication application) => this.application = application;

    /// <summary>The address the page is served at, once started (the port the system chose where 0 was asked).</summary>
    public string Url => application.Urls.Single();

    /// <summary>Starts serving <paramref name="catalog"/>'s examples and simulations at <c>http://127.0.0.1:<paramref name="port"/></c> (0: any free port).</summary>
    public static async Task<DashboardServer> StartAsync(HardwareCatalog catalog, int port, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, IPEndPoint.MaxPort);
        var api = new DashboardApi(catalog);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(options => options.Listen(IPAddress.Loopback, port));
        builder.Services.AddRoutingCore();
        var application = builder.Build();
        var turns = new SemaphoreSlim(2);
        var page = Page();
        application.Use(async (context, next) =>
        {
            if (!FromThisMachine(context.Request))
            {
                context.Response.StatusCode = StatusCodes.Status421MisdirectedRequest;
                return;
            }

            context.Response.Headers["X-Content-Type-Options"] = "nosniff";
            await next(context);
        });
        application.MapGet("/", () => Results.Text(page, "text/html; charset=utf-8"));
        application.MapGet("/api/examples", () => JsonResult(api.Examples));
        application.MapGet("/api/examples/{**path}", (string path) => api.Example(path) is { } text ? Results.Text(text, "text/yaml; charset=utf-8") : Results.NotFound());
        application.MapPost("/api/simulate", async (HttpRequest request) => await Answer(request, turns, api.Simulate));
        application.MapPost("/api/plan", async (HttpRequest request) => await Answer(request, turns, api.Plan));
        application.MapPost("/api/serve", async (HttpRequest request) => await Answer(request, turns, api.Serve));
        application.MapPost("/api/rl", async (HttpRequest request) => await Answer(request, turns, api.Reinforce));
        application.MapPost("/api/share", async (HttpRequest request) => await Answer(request, turns, api.Share));
        await application.StartAsync(cancellationToken);
        return new DashboardServer(application);
    }

    /// <summary>Serves until <paramref name="cancellationToken"/> is cancelled (Ctrl+C) or the server stops.</summary>
    public async Task WaitAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, application.Lifetime.ApplicationStopping);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token);
        }
        catch (OperationCanceledException)
        {
            // Asked to stop: the caller disposes the server.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await application.StopAsync();
        await application.DisposeAsync();
    }

    /// <summary>Whether the request names this machine's loopback address (or <c>localhost</c>) as its host.</summary>
    private static bool FromThisMachine(HttpRequest request) =>
        request.Host.Host is "127.0.0.1" or "localhost" or "[::1]";

    /// <summary>Reads the scenario <paramref name="request"/> sends and answers with <paramref name="work"/> on it, in its turn.</summary>
    private static async Task<IResult> Answer(HttpRequest request, SemaphoreSlim turns, Func<string, object> work)
    {
        var type = request.ContentType?.Split(';')[0].Trim();
        if (type is null || !YamlTypes.Contains(type, StringComparer.OrdinalIgnoreCase))
        {
            return Problems(StatusCodes.Status415UnsupportedMediaType, [Problem($"send the scenario as YAML (Content-Type: text/yaml), not {type ?? "without a type"}")]);
        }

        // The body's bytes, counted whether or not the request says its length.
        var body = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(buffer)) > 0)
        {
            body.Write(buffer, 0, read);
            if (body.Length > DashboardApi.MostScenarioBytes)
            {
                return Problems(StatusCodes.Status413PayloadTooLarge, [Problem($"the scenario is larger than {DashboardApi.MostScenarioBytes / 1024} KiB")]);
            }
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(body.GetBuffer(), 0, (int)body.Length);
        }
        catch (DecoderFallbackException)
        {
            return Problems(StatusCodes.Status400BadRequest, [Problem("the scenario is not UTF-8 text")]);
        }

        await turns.WaitAsync();
        try
        {
            // The engines are synchronous and CPU-bound: off the request's thread.
            return JsonResult(await Task.Run(() => work(text)));
        }
        catch (InputException error)
        {
            return Problems(StatusCodes.Status400BadRequest, error.Diagnostics);
        }
        catch (NonFiniteResultException error)
        {
            return Problems(StatusCodes.Status400BadRequest, [Problem(error.Message)]);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A fault of ClusterTwin's, not of the scenario: said, not hidden behind an empty answer, and logged.
            await Console.Error.WriteLineAsync($"dashboard: {request.Path} failed: {error}");
            return Problems(StatusCodes.Status500InternalServerError, [Problem($"ClusterTwin failed on this scenario ({error.GetType().Name}: {error.Message}); please report it with the scenario")]);
        }
        finally
        {
            turns.Release();
        }
    }

    private static Diagnostic Problem(string message) => new(DashboardApi.SentScenarioName, 0, string.Empty, message);

    private static IResult JsonResult(object document) => Results.Text(Json.Serialize(document, indented: false), "application/json; charset=utf-8");

    private static IResult Problems(int status, IEnumerable<Diagnostic> problems) =>
        Results.Text(Json.Serialize(new { problems = problems.Select(problem => new { file = problem.File, line = problem.Line, field = problem.Field, message = problem.Message }) }, indented: false), "application/json; charset=utf-8", statusCode: status);

    private static string Page()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("ClusterTwin.Cli.Dashboard.index.html")
            ?? throw new InvalidOperationException("the dashboard page is missing from the assembly's resources");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
