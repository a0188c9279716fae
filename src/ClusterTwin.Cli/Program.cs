using ClusterTwin.Cli;

return CommandLine.Run(args, Spectre.Console.AnsiConsole.Console);
