using ClusterTwin.Cli;

var console = OutputWidth.Apply(Spectre.Console.AnsiConsole.Console, Environment.GetEnvironmentVariable("COLUMNS"), Console.IsOutputRedirected);
return CommandLine.Run(args, console);
