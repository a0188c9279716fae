using System.ComponentModel;
using ClusterTwin.Cli.Dashboard;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin dashboard [--port N]</c>: the local web dashboard, until Ctrl+C.</summary>
public sealed class DashboardCommand(IAnsiConsole console) : AsyncCommand<DashboardCommand.Settings>
{
    /// <summary>Arguments of <c>dashboard</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>The port on the loopback address.</summary>
        [CommandOption("--port <PORT>")]
        [Description("Port to serve the dashboard on, on 127.0.0.1 only (default 5080; 0: any free port).")]
        public int Port { get; init; } = 5080;

        /// <inheritdoc />
        public override ValidationResult Validate() =>
            base.Validate() is { Successful: false } problem ? problem
            : Port is >= 0 and <= 65535 ? ValidationResult.Success() : ValidationResult.Error($"--port {Port} is not a port (expected 0 to 65535)");
    }

    /// <inheritdoc />
    public override async Task<int> ExecuteAsync(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        await using var server = await Start(catalog, settings.Port, cancellationToken);
        console.MarkupLineInterpolated($"ClusterTwin dashboard at [link]{server.Url}[/] (this machine only); Ctrl+C stops it.");

        // Ctrl+C stops the server and ends the command, instead of killing the process.
        using var interrupted = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void Stop(object? sender, ConsoleCancelEventArgs press)
        {
            press.Cancel = true;
            interrupted.Cancel();
        }

        Console.CancelKeyPress += Stop;
        try
        {
            await server.WaitAsync(interrupted.Token);
        }
        finally
        {
            Console.CancelKeyPress -= Stop;
        }

        return 0;
    }

    /// <summary>Starts the server, or says why the port cannot be used.</summary>
    private static async Task<DashboardServer> Start(Catalog.HardwareCatalog catalog, int port, CancellationToken cancellationToken)
    {
        try
        {
            return await DashboardServer.StartAsync(catalog, port, cancellationToken);
        }
        catch (IOException error)
        {
            throw new Catalog.InputException("--port", $"cannot serve on 127.0.0.1:{port}: {error.Message} (choose another port, or 0 for any free one)");
        }
    }
}
