using ClusterTwin.Cli;

var console = Spectre.Console.AnsiConsole.Console;
if (OutputWidth.Of(Environment.GetEnvironmentVariable("COLUMNS"), Console.IsOutputRedirected) is { } width)
{
    console.Profile.Width = width;
}

return CommandLine.Run(args, console);
